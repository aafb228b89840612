# TccAddModel.cmake — CMake functions for projects that compile ONNX models
# with tcc at build time (docs/cmake.md).  Loaded by find_package(tcc) from
# the installed package, and by tcc's own CMakeLists.txt for projects that
# add_subdirectory() a tcc source tree.
#
#   tcc_add_model(<target> MODEL model.onnx [TARGET armv8] [NAME n]
#                 [MCPU cpu] [MATTR +a,-b] [OPTIONS flag...] [DEPENDS file...]
#                 [MAX_RAM 256K] [MAX_FLASH 1M] [WEIGHTS embedded|external])
#     A static library <target> holding the compiled model: linking it
#     brings the object, the folder of the generated <n>.h, the tcc runtime
#     for the toolchain in use and libm.  WEIGHTS external: the weights are
#     the blob <n>.weights beside the object (its path in the target's
#     property TCC_WEIGHTS_FILE), which the application hands over at run
#     time (docs/cmake.md).
#   tcc_link_board(<executable> [BOARD mps2-an386])
#     Bare metal (cortex-m*): the board's startup code and linker script and
#     newlib's semihosting, as `tcc run -target=cortex-m4` links them.
#
# Set before the call (cache or normal variables):
#   TCC_RUNTIME_FROM_SOURCE  ON: build the runtime from its sources with the
#                            project's own compiler and flags, instead of
#                            the prebuilt library of the package.
include_guard(GLOBAL)

# tcc's targets, and the family each belongs to (what a toolchain's
# CMAKE_SYSTEM_PROCESSOR must name).
set(_TCC_TARGETS x86_64 armv8 aarch64 riscv64 riscv64gcv wasm32 cortex-m4 cortex-m7 cortex-m55)

# A tcc target's processor family, and the folder of lib/tcc/ its runtime
# is in (riscv64gcv uses riscv64's, aarch64 is armv8).
function(_tcc_target_info target out_family out_runtime_dir)
  set(f ${target})
  set(dir ${target})
  if(target MATCHES "^(armv8|aarch64)$")
    set(f aarch64)
    set(dir armv8)
  elseif(target MATCHES "^riscv64")
    set(f riscv64)
    set(dir riscv64)
  elseif(target MATCHES "^cortex-m")
    set(f arm)
  endif()
  set(${out_family} ${f} PARENT_SCOPE)
  set(${out_runtime_dir} ${dir} PARENT_SCOPE)
endfunction()

# The tcc target a toolchain's processor name stands for ("" if none), and
# its family.
function(_tcc_target_for_processor out_target out_family processor)
  string(TOLOWER "${processor}" p)
  set(t "")
  set(f "")
  if(p MATCHES "^(x86_64|amd64|x64)$")
    set(t x86_64)
    set(f x86_64)
  elseif(p MATCHES "^(aarch64|arm64|armv8.*)$")
    set(t armv8)
    set(f aarch64)
  elseif(p MATCHES "^riscv64")
    set(t riscv64)
    set(f riscv64)
  elseif(p MATCHES "^wasm32")
    set(t wasm32)
    set(f wasm32)
  elseif(p MATCHES "^cortex-m(4|7|55)$")
    set(t ${p})
    set(f arm)
  elseif(p MATCHES "^(arm|thumb|cortex-m)")
    set(f arm)  # an Arm core, but which one the name does not say
  endif()
  set(${out_target} "${t}" PARENT_SCOPE)
  set(${out_family} "${f}" PARENT_SCOPE)
endfunction()

# The library of the tcc runtime for `target`, built for the toolchain in
# use: the package's prebuilt one, or one built here from the sources.
function(_tcc_runtime_for out target)
  _tcc_target_info(${target} family dir)
  if(NOT TCC_RUNTIME_FROM_SOURCE)
    if(dir STREQUAL "x86_64" AND NOT CMAKE_CROSSCOMPILING AND TARGET tcc::tccrt)
      set(${out} tcc::tccrt PARENT_SCOPE)
      return()
    endif()
    if(TARGET tcc::tccrt_${dir})
      set(${out} tcc::tccrt_${dir} PARENT_SCOPE)
      return()
    endif()
  endif()
  set(lib tcc_runtime_${dir})
  if(NOT TARGET ${lib})
    file(GLOB sources ${TCC_RUNTIME_SOURCE_DIR}/*.c)
    list(FILTER sources EXCLUDE REGEX "/pool\\.c$")
    if(dir STREQUAL "riscv64")  # GCC 12's libgcc lacks the f16 conversions
      list(APPEND sources ${TCC_RUNTIME_SOURCE_DIR}/toolchains/riscv64-f16.c)
    endif()
    add_library(${lib} STATIC ${sources})
    target_include_directories(${lib} PUBLIC ${TCC_INCLUDE_DIR})
  endif()
  set(${out} ${lib} PARENT_SCOPE)
endfunction()

function(tcc_add_model name)
  cmake_parse_arguments(PARSE_ARGV 1 arg ""
    "MODEL;TARGET;NAME;MCPU;MATTR;MAX_RAM;MAX_FLASH;WEIGHTS" "OPTIONS;DEPENDS")
  set(where "tcc_add_model(${name})")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${where}: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_MODEL)
    message(FATAL_ERROR "${where}: MODEL is required")
  endif()
  get_filename_component(model "${arg_MODEL}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "${where}: MODEL ${model} does not exist")
  endif()

  # The target: given, or the toolchain's; both must agree.
  _tcc_target_for_processor(default family "${CMAKE_SYSTEM_PROCESSOR}")
  set(default_hint "")
  if(default)
    set(default_hint " (the toolchain's is ${default})")
  endif()
  if(arg_TARGET)
    if(NOT arg_TARGET IN_LIST _TCC_TARGETS)
      string(REPLACE ";" ", " known "${_TCC_TARGETS}")
      message(FATAL_ERROR "${where}: unknown TARGET ${arg_TARGET} (tcc targets: ${known})")
    endif()
    _tcc_target_info(${arg_TARGET} want runtime_dir)
    if(NOT want STREQUAL family)
      message(FATAL_ERROR "${where}: TARGET ${arg_TARGET} does not match the toolchain's "
        "processor '${CMAKE_SYSTEM_PROCESSOR}' (CMAKE_SYSTEM_PROCESSOR): objects for "
        "${arg_TARGET} cannot link here. Use the toolchain file of ${arg_TARGET}, or "
        "leave TARGET out${default_hint}")
    endif()
    set(target ${arg_TARGET})
  elseif(default)
    set(target ${default})
  else()
    message(FATAL_ERROR "${where}: no tcc target for the toolchain's processor "
      "'${CMAKE_SYSTEM_PROCESSOR}' (CMAKE_SYSTEM_PROCESSOR); give TARGET")
  endif()

  if(arg_NAME)
    set(model_name ${arg_NAME})
  else()
    string(MAKE_C_IDENTIFIER "${name}" model_name)
  endif()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/tcc_models/${name})
  set(obj ${dir}/${model_name}.o)
  set(hdr ${dir}/${model_name}.h)
  set(dep ${dir}/${model_name}.d)

  set(flags -target=${target} -name=${model_name})
  if(arg_MCPU)
    list(APPEND flags -mcpu=${arg_MCPU})
  endif()
  if(arg_MATTR)
    list(APPEND flags -mattr=${arg_MATTR})
  endif()
  if(arg_MAX_RAM)
    list(APPEND flags --max-ram=${arg_MAX_RAM})
  endif()
  if(arg_MAX_FLASH)
    list(APPEND flags --max-flash=${arg_MAX_FLASH})
  endif()
  list(APPEND flags ${arg_OPTIONS})
  set(outputs ${obj} ${hdr})
  set(weights "")  # not a caller's variable of that name
  if("--weights=external" IN_LIST arg_OPTIONS)
    set(arg_WEIGHTS external)
  endif()
  if(arg_WEIGHTS STREQUAL "external")
    set(weights ${dir}/${model_name}.weights)
    list(APPEND flags --weights=external)
    list(APPEND outputs ${weights})
  elseif(arg_WEIGHTS AND NOT arg_WEIGHTS STREQUAL "embedded")
    message(FATAL_ERROR "${where}: WEIGHTS ${arg_WEIGHTS}: expected embedded or external")
  endif()

  # The command line goes into a file rewritten only when it changes, so a
  # changed option recompiles with every generator; the depfile adds what
  # tcc read (external data, -freeze files), and tcc itself is a dependency.
  set(cmdfile ${dir}/${model_name}.cmdline)
  string(REPLACE ";" "\n" cmdtext "${model}\n${flags}")
  file(CONFIGURE OUTPUT ${cmdfile} CONTENT "${cmdtext}\n")
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND tcc::tcc compile ${model} ${flags} -o ${dir} --depfile=${dep}
    DEPENDS ${model} ${cmdfile} $<TARGET_FILE:tcc::tcc> ${arg_DEPENDS}
    DEPFILE ${dep}
    COMMENT "tcc: compiling ${arg_MODEL} for ${target}"
    VERBATIM)

  _tcc_runtime_for(runtime ${target})
  add_library(${name} STATIC ${obj} ${hdr})
  set_source_files_properties(${obj} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  set_target_properties(${name} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${name} PUBLIC ${dir})
  target_link_libraries(${name} PUBLIC ${runtime})
  if(weights)
    target_sources(${name} PRIVATE ${weights})  # built with the library
    set_target_properties(${name} PROPERTIES TCC_WEIGHTS_FILE ${weights})
  endif()
  if(NOT target STREQUAL "wasm32")  # wasi-libc has libm in libc
    target_link_libraries(${name} PUBLIC m)
  endif()
endfunction()

function(tcc_link_board exe)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "BOARD" "")
  _tcc_target_for_processor(target family "${CMAKE_SYSTEM_PROCESSOR}")
  set(board ${arg_BOARD})
  if(NOT board)
    if(target STREQUAL "cortex-m4")
      set(board mps2-an386)
    elseif(target STREQUAL "cortex-m7")
      set(board mps2-an500)
    elseif(target STREQUAL "cortex-m55")
      set(board mps3-an547)
    else()
      message(FATAL_ERROR "tcc_link_board(${exe}): no board for processor "
        "'${CMAKE_SYSTEM_PROCESSOR}'; give BOARD (mps2-an386, mps2-an500, mps3-an547)")
    endif()
  endif()
  set(boards ${TCC_RUNTIME_SOURCE_DIR}/toolchains)
  if(NOT EXISTS ${boards}/${board}/${board}.ld)
    message(FATAL_ERROR "tcc_link_board(${exe}): unknown BOARD ${board}")
  endif()
  target_sources(${exe} PRIVATE ${boards}/mps2-an386/startup.c)
  target_link_options(${exe} PRIVATE --specs=rdimon.specs -nostartfiles
    -Wl,--no-warn-execstack,--no-warn-rwx-segments -T${boards}/${board}/${board}.ld)
endfunction()
