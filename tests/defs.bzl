"""weft_test: a Catch2 test of the whole library with the shared helpers."""

def weft_test(name, size = "medium", srcs = None, deps = [], linkstatic = False, env = {}, hdrs = []):
    native.cc_test(
        name = name,
        size = size,
        srcs = (srcs or [name + ".cc", "test_util.h"]) + hdrs,
        linkstatic = linkstatic,
        env = env,
        deps = [
            "//:weft",
            "//third_party/system:catch2_main",
        ] + deps,
    )
