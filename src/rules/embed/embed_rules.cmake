# Embeds the built-in rule files into the library as C arrays.
#   cmake -DRULES_DIR=<dir with *.yaml> -DOUTPUT=<file.c> -P embed_rules.cmake
# Each file becomes a NUL-terminated char array listed in
# dt_builtin_rule_file_table (src/rules/builtin.h), in file-name order.
file(GLOB rule_files RELATIVE ${RULES_DIR} ${RULES_DIR}/*.yaml)
list(SORT rule_files)
list(LENGTH rule_files file_count)
if(file_count EQUAL 0)
  message(FATAL_ERROR "no rule files in ${RULES_DIR}")
endif()

set(arrays "")
set(table "")
set(index 0)
foreach(name IN LISTS rule_files)
  file(READ ${RULES_DIR}/${name} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
  string(APPEND arrays "static const char rules_${index}[] = {\n    ${bytes}0x00};\n")
  string(APPEND table "    {\"${name}\", rules_${index}, sizeof rules_${index} - 1},\n")
  math(EXPR index "${index} + 1")
endforeach()

set(content "/* Generated from the rules folder by src/rules/embed/embed_rules.cmake: do not edit. */
#include \"rules/builtin.h\"

${arrays}
const dt_builtin_rule_file dt_builtin_rule_file_table[] = {
${table}};
const size_t dt_builtin_rule_file_count = ${file_count};
")
# Rewrite only on change, so an unchanged rule set does not rebuild the library.
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} previous)
endif()
if(NOT previous STREQUAL content)
  file(WRITE ${OUTPUT} "${content}")
endif()
