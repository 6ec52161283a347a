/*
 * test_version.c: the version macros, corio_version() and
 * corio_version_number() agree with each other and with CMake's
 * project(corio VERSION ...), which the build passes in as
 * CORIO_TEST_PROJECT_VERSION.
 */
#include "test.h"

#include <corio.h>
#include <stdio.h>

#ifndef CORIO_TEST_PROJECT_VERSION
#error "the build must define CORIO_TEST_PROJECT_VERSION"
#endif

TEST(version_matches_cmake)
{
    char parts[64];
    snprintf(parts, sizeof parts, "%d.%d.%d", CORIO_VERSION_MAJOR,
             CORIO_VERSION_MINOR, CORIO_VERSION_PATCH);
    CHECK(strcmp(CORIO_VERSION_STRING, CORIO_TEST_PROJECT_VERSION) == 0);
    CHECK(strcmp(parts, CORIO_VERSION_STRING) == 0);
}

TEST(version_runtime)
{
    CHECK(strcmp(corio_version(), CORIO_VERSION_STRING) == 0);
    CHECK_EQ(corio_version_number(), CORIO_VERSION_NUMBER);
    CHECK_EQ(CORIO_VERSION_NUMBER, CORIO_VERSION_MAJOR * 1000000 +
                                       CORIO_VERSION_MINOR * 1000 +
                                       CORIO_VERSION_PATCH);
    /* Orders as versions do: each part stays inside its three digits. */
    CHECK(CORIO_VERSION_MINOR >= 0 && CORIO_VERSION_MINOR < 1000);
    CHECK(CORIO_VERSION_PATCH >= 0 && CORIO_VERSION_PATCH < 1000);
}
