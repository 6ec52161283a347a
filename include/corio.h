/*
 * corio.h: the one header corio users include.
 *
 * corio brings Python's coroutines and asyncio to C. Layers, lowest first:
 *   corio/error.h   error codes, corio_strerror
 *   corio/coro.h    coroutine objects driven by hand (no loop needed)
 */
#ifndef CORIO_H
#define CORIO_H

#include "corio/error.h"
#include "corio/coro.h"

#endif /* CORIO_H */
