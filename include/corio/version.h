/*
 * corio/version.h: which corio this is.
 *
 * The macros give the version of the headers a program was compiled
 * against; corio_version() and corio_version_number() give the version of
 * the library it runs with, which can differ when libcorio.so is upgraded
 * underneath it. The numbers must agree with CMakeLists.txt's
 * project(corio VERSION ...): configuring fails, and the version_ tests
 * fail, when they do not.
 *
 * Before 1.0, a minor release may change the API; from 1.0 on, the usual
 * rules (a major release for incompatible changes) apply.
 */
#ifndef CORIO_VERSION_H
#define CORIO_VERSION_H

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CORIO_VERSION_MAJOR 0
#define CORIO_VERSION_MINOR 1
#define CORIO_VERSION_PATCH 0
#define CORIO_VERSION_STRING "0.1.0"

/* The version as one number that orders as versions do:
 * MAJOR * 1000000 + MINOR * 1000 + PATCH (0.1.0 is 1000; 1.2.3 is
 * 1002003). For checks such as
 *     if (corio_version_number() < CORIO_VERSION_NUMBER) ... older .so */
#define CORIO_VERSION_NUMBER                                               \
    (CORIO_VERSION_MAJOR * 1000000 + CORIO_VERSION_MINOR * 1000 +          \
     CORIO_VERSION_PATCH)

/* corio_version: the library's CORIO_VERSION_STRING ("0.1.0"). Static;
 * never NULL. Thread-safe. */
CORIO_API const char *corio_version(void);

/* corio_version_number: the library's CORIO_VERSION_NUMBER. */
CORIO_API int corio_version_number(void);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_VERSION_H */
