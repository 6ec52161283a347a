/*
 * net_impl.h: what the files of src/net/ share.
 */
#ifndef CORIO_NET_IMPL_H
#define CORIO_NET_IMPL_H

#include <corio/task.h>
#include <netdb.h>

/* Inside a task? (the calls that may suspend need one) */
#define corio_task_running_p() (corio_task_current() != NULL)

/* -EINVAL for an empty host (NULL is allowed: "any"). */
int corio__check_host(const char *host);
/* Resolve host:port for socktype (passive: for bind). Checks the port
 * and the host. Returns as corio_getaddrinfo. */
int corio__resolve(const char *host, int port, int family, int socktype,
                   int passive, struct addrinfo **res);
/* socket() non-blocking and close-on-exec: the fd or -errno. */
int corio__socket(int family, int type, int proto);

/* corio_tcp_connect on a given list of addresses (tests give their own
 * order). opts not NULL. */
struct corio_tcp_opts;
int corio__tcp_connect_list(const struct addrinfo *res,
                            const struct corio_tcp_opts *o, int *fd);

#endif /* CORIO_NET_IMPL_H */
