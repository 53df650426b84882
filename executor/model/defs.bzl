"""weft_model_test: a Relacy model of executor code (see MODEL_CHECKING.md)."""

# The seam every model compiles against.
_SEAM = [
    "//executor:atomic.h",
    "//executor:atomic_relacy.h",
    "//executor:futex.h",
    "model.h",
    "model_tasks.h",
    "stand_in.h",
]

def weft_model_test(name, srcs = [], deps = [], size = "small"):
    """A Catch2 test `name`.cc with the executor sources `srcs` it models.

    `srcs` are compiled here, with WEFT_RELACY defined, not taken from
    //executor's libraries.
    """
    native.cc_test(
        name = name,
        size = size,
        srcs = [name + ".cc"] + _SEAM + srcs,
        # WEFT_CHECKED_BUILD: the small LocalQueue capacity (4) of the checking
        # build, so that a few pushes reach overflow and wrap-around.
        local_defines = ["WEFT_RELACY", "WEFT_CHECKED_BUILD"],
        deps = ["//third_party/system:catch2_main"] + deps,
        # The sanitizer configs leave these out (.bazelrc): Relacy's fibers
        # and operator new are not ASan/TSan material.
        tags = ["relacy"],
    )
