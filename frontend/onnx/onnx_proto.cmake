# onnx_proto.cmake — the C code protoc-c generates from Debian's onnx.proto,
# into the build tree (never the repo): target tcc_onnx_proto (static, PIC),
# headers in GEN_DIR.  Included by the main build and the fuzz build.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
find_program(PROTOC_C NAMES protoc-c REQUIRED)
find_file(ONNX_PROTO NAMES onnx/onnx.proto REQUIRED)

get_filename_component(ONNX_PROTO_DIR ${ONNX_PROTO} DIRECTORY)
set(GEN_DIR ${PROJECT_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${GEN_DIR})
add_custom_command(
  OUTPUT ${GEN_DIR}/onnx.pb-c.c ${GEN_DIR}/onnx.pb-c.h
  COMMAND ${PROTOC_C} --c_out=${GEN_DIR} -I${ONNX_PROTO_DIR} ${ONNX_PROTO}
  DEPENDS ${ONNX_PROTO}
  COMMENT "protoc-c onnx.proto")
add_library(tcc_onnx_proto STATIC ${GEN_DIR}/onnx.pb-c.c)
target_include_directories(tcc_onnx_proto PUBLIC $<BUILD_INTERFACE:${GEN_DIR}>)
target_link_libraries(tcc_onnx_proto PUBLIC
  $<BUILD_INTERFACE:PkgConfig::PROTOBUF_C> $<INSTALL_INTERFACE:protobuf-c>)
set_target_properties(tcc_onnx_proto PROPERTIES POSITION_INDEPENDENT_CODE ON)
