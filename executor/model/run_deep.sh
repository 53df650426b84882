#!/bin/sh
# Runs a model binary's deeper searches: its Catch2 test cases tagged
# [.deep], which the binary's own test (bazel test //...) leaves out.
exec "$1" "[deep]"
