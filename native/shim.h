/* epoll-proxy shim: the C side of the jffi binding (shim.JffiKernel). Every function returns >= 0 or -errno. */
#ifndef EPOLL_PROXY_SHIM_H
#define EPOLL_PROXY_SHIM_H

/* One flattened event: int64 token, int32 events, int32 padding. */
#define SHIM_EVENT_SIZE 16
/* One address: int32 family, int32 port, int32 scope id, 108 bytes: the IP address (4 or 16 bytes) or a
 * NUL-terminated AF_UNIX path (sun_path's size). */
#define SHIM_ADDR_SIZE 120
/* epoll_wait copies through a stack array of this many events. */
#define SHIM_MAX_EVENTS 1024

int shim_epoll_create(void);
int shim_epoll_ctl(int epfd, int op, int fd, int events, long long token);
int shim_epoll_wait(int epfd, long long out, int max, int timeout_ms);
int shim_sizeof_epoll_event(void);

int shim_set_nonblocking(int fd);
int shim_get_fd_flags(int fd);
int shim_close(int fd);
int shim_dup(int fd);
int shim_dup3(int fd, int to);
int shim_open(long long path, int flags);
int shim_eventfd(void);
int shim_eventfd_write(int fd);
int shim_eventfd_read(int fd);
long long shim_pipe2(void);
int shim_splice(int fd_in, int fd_out, int len, int flags);
int shim_set_pipe_size(int fd, int size);
int shim_pipe_size(int fd);
int shim_read(int fd, long long buf, int len);
int shim_write(int fd, long long buf, int len);
int shim_malloc_trim(int pad);
/* At most five arguments per function: jnr-ffi 2.2.17 over jffi 1.3.13 passes a sixth one wrong on x86-64
 * (strace showed garbage where mmap's offset and io_uring_enter's argsz should be; jnr/jnr-ffi issue 181). */
long long shim_mmap(long long len, int prot, int flags, int fd, long long off);
int shim_munmap(long long addr, long long len);

/* IORING_ENTER_EXT_ARG and sizeof(struct io_uring_getevents_arg), uapi values the shim needs without
 * <linux/io_uring.h> (which musl builds lack); constants.c and ConstantsTest compare them with the header. */
#define SHIM_IORING_ENTER_EXT_ARG 8
#define SHIM_GETEVENTS_ARG_SIZE 24
int shim_io_uring_setup(int entries, long long params);
int shim_io_uring_enter(int fd, int to_submit, int min_complete, int flags, long long arg);
int shim_io_uring_register(int fd, int opcode, long long arg, int nr_args);

int shim_sizeof_addr(void);
int shim_socket(int domain, int type, int protocol);
int shim_setsockopt_int(int fd, int level, int name, int value);
int shim_getsockopt_int(int fd, int level, int name);
int shim_set_linger(int fd, int onoff, int seconds);
int shim_sock_error(int fd);
int shim_bind(int fd, long long addr);
int shim_listen(int fd, int backlog);
int shim_accept(int fd, long long out_addr);
int shim_connect(int fd, long long addr);
int shim_getsockname(int fd, long long out_addr);
int shim_getpeername(int fd, long long out_addr);
int shim_recv(int fd, long long buf, int len);
int shim_send(int fd, long long buf, int len);
int shim_recvfrom(int fd, long long buf, int len, long long out_addr);
int shim_sendto(int fd, long long buf, int len, long long addr);
int shim_shutdown(int fd, int how);

int shim_getuid(void);
int shim_gettid(void);
int shim_peer_uid(int fd);
int shim_peer_pid(int fd);
int shim_set_cloexec(int fd);
int shim_send_fd(int sock, long long buf, int len, int pass_fd);
int shim_recv_fd(int sock, long long buf, int len, long long out_fd);

/* One file's identity, as shim_lstat/shim_fstat write it: int64 st_dev, int64 st_ino, int32 st_mode, int32 st_uid. */
#define SHIM_STAT_SIZE 24
int shim_lstat(long long path, long long out);
int shim_fstat(int fd, long long out);
int shim_mkdir(long long path, int mode);
int shim_rmdir(long long path);
int shim_unlink(long long path);
int shim_rename(long long from, long long to, int flags);
int shim_chmod(long long path, int mode);
int shim_open_directory(long long path);

int shim_strerror(int err, long long buf, int len);
long long shim_constant(const char *name);

#endif
