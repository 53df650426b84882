"""weft_test: a Catch2 test of the whole library with the shared helpers."""

def weft_test(name, size = "medium", srcs = None, deps = [], linkstatic = False):
    native.cc_test(
        name = name,
        size = size,
        srcs = srcs or [name + ".cc", "test_util.h"],
        linkstatic = linkstatic,
        deps = [
            "//:weft",
            "//third_party/system:catch2_main",
        ] + deps,
    )
