# The examples of examples/BUILD.bazel, built against weft::weft as a user's
# program would be. Included from the top-level CMakeLists.txt.

# Standalone Asio (libasio-dev, header-only): the two Asio interop examples.
find_path(WEFT_ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(weft_example_asio INTERFACE)
target_include_directories(weft_example_asio SYSTEM INTERFACE "${WEFT_ASIO_INCLUDE_DIR}")
# ASIO_HAS_CO_AWAIT: Asio 1.22 detects C++20 coroutines on g++ but not on
# clang (third_party/system/BUILD.bazel).
target_compile_definitions(weft_example_asio INTERFACE
  ASIO_STANDALONE ASIO_NO_DEPRECATED ASIO_HAS_CO_AWAIT=1)
target_link_libraries(weft_example_asio INTERFACE Threads::Threads)

# What the example servers share (SIGINT/SIGTERM, connection limits; the
# header-only --stats printer, examples/stats.h, needs nothing built).
add_library(weft_example_servers STATIC examples/connections.cc)
target_compile_options(weft_example_servers PRIVATE ${WEFT_WARNINGS})
target_link_libraries(weft_example_servers PUBLIC weft::weft absl::flags absl::time absl::strings)

function(weft_example name)
  add_executable(${name} examples/${name}.cc)
  target_compile_options(${name} PRIVATE ${WEFT_WARNINGS})
  target_link_libraries(${name} PRIVATE weft::weft ${ARGN})
endfunction()

weft_example(hello)
weft_example(file_copy)
weft_example(ls)
weft_example(join_thread_pool weft_example_asio)
weft_example(wrap_sync_socket weft_example_asio)
weft_example(echo_server weft_example_servers absl::flags_parse)
weft_example(http_hello weft_example_servers absl::flags_parse)
weft_example(chat weft_example_servers absl::flags_parse)
weft_example(tee)
