# cmake --install puts headers, libraries and a package config in the prefix;
# find_package(moegate) then gives moegate::contract, moegate::reference and
# moegate::cuda.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(moegate_targets GLOBAL PROPERTY MOEGATE_EXPORTED_TARGETS)
install(TARGETS ${moegate_targets} moegate_cli EXPORT moegateTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/moegate DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(moegate_config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/moegate)
install(EXPORT moegateTargets NAMESPACE moegate:: DESTINATION ${moegate_config_dir})
configure_package_config_file(cmake/moegateConfig.cmake.in
  ${PROJECT_BINARY_DIR}/moegateConfig.cmake INSTALL_DESTINATION ${moegate_config_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/moegateConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/moegateConfig.cmake ${PROJECT_BINARY_DIR}/moegateConfigVersion.cmake
        DESTINATION ${moegate_config_dir})
