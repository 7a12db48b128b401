# How big the privileged helper is, and what it loads (issue #21, item 5;
# docs/SECURITY.md, "How big the helper is").
#
#   cmake --build --preset ci --target helper-lines
#
# counts the helper's own code from its link map and the compiler's
# dependency files (scripts/helper-lines.sh) and fails over 2,500 lines.
# In the tests, build.helper_lines prints the same figure and passes;
# build.helper_lines_budget fails over the limit: on by default, off in
# sanitizer builds (their instrumentation is not the helper's code, and
# the ci build already holds the line). build.helper_libraries (libc,
# libcap-ng, libmnl, nothing dlopened) always runs.
option(UB_ENFORCE_HELPER_BUDGET "Fail the tests when the helper is over 2,500 lines" ON)

# The link map names each archive member the linker pulled in; it does not
# change the helper itself.
target_link_options(userbridge-helper PRIVATE -Wl,-Map=${CMAKE_BINARY_DIR}/userbridge-helper.map)

add_custom_target(helper-lines
  COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/helper-lines.sh ${CMAKE_BINARY_DIR}
  COMMENT "Counting the helper's own code" VERBATIM USES_TERMINAL)
add_dependencies(helper-lines userbridge-helper)

if(UB_TESTS)
  if(UB_ENFORCE_HELPER_BUDGET AND NOT UB_SANITIZE)
    set(disabled OFF)
  else()
    set(disabled ON)
  endif()
  add_test(NAME build.helper_lines
           COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/helper-lines.sh ${CMAKE_BINARY_DIR} --report-only)
  add_test(NAME build.helper_lines_budget
           COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/helper-lines.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(build.helper_lines_budget PROPERTIES DISABLED ${disabled})
  # The C++ runtime is linked statically only in these builds; elsewhere
  # libstdc++ is a NEEDED entry by design. (tests/CMakeLists.txt's
  # build.helper_needs_only_libc_and_libmnl is the start-up cost's check:
  # libcap-ng from its archive too.)
  if(UB_STATIC_HELPER AND NOT UB_SANITIZE)
    add_test(NAME build.helper_libraries
             COMMAND bash ${CMAKE_SOURCE_DIR}/tests/build/helper_libraries.sh $<TARGET_FILE:userbridge-helper>)
  endif()
  unset(disabled)
endif()
