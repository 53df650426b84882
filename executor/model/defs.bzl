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

def weft_model_test(name, srcs = [], deps = [], size = "small", deep = False):
    """A Catch2 test `name`.cc with the executor sources `srcs` it models.

    `srcs` are compiled here, with WEFT_RELACY defined, not taken from
    //executor's libraries.

    With `deep`, also `name`_deep: the same binary running only its test
    cases tagged [.deep] (longer bounded searches). It is tagged "manual", so
    `bazel test //...` leaves it out; the test_suite //executor/model:deep
    runs them all (a stage of .ci/run).
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
    if deep:
        native.sh_test(
            name = name + "_deep",
            size = "large",
            srcs = ["run_deep.sh"],
            args = ["$(rootpath :%s)" % name],
            data = [":" + name],
            tags = ["relacy", "relacy_deep", "manual"],
        )
