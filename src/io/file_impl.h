/*
 * file_impl.h: file.c's internals that tests reach (the inline read path
 * of corio_file_read / corio_file_pread, file.c's header comment).
 */
#ifndef CORIO_FILE_IMPL_H
#define CORIO_FILE_IMPL_H

#include <sys/types.h>
#include <sys/uio.h>

/* The preadv2 file.c's inline reads call (libc's): tests replace it to
 * play a kernel or file system without RWF_NOWAIT. Set it only while no
 * loop runs a file call. */
extern ssize_t (*corio__file_preadv2)(int fd, const struct iovec *iov,
                                      int n, off_t off, int flags);

/* 1 if fd's file refused RWF_NOWAIT, so its reads go to the pool. */
int corio__file_inline_refused(int fd);

#endif /* CORIO_FILE_IMPL_H */
