/*
 * Plain JNI entry points for the benchmarks: each one calls the shim function jffi calls, with the
 * same primitive arguments, so the only difference between the two paths is the binding itself.
 * Static native methods of org.epollproxy.bench.jni.JniShim; nothing here is used by the proxy.
 */
#include <jni.h>

#include "shim.h"

#define JNI_FN(name) Java_org_epollproxy_bench_jni_JniShim_##name

/* A call that does no syscall: the bare cost of crossing from Java into C and back. */
JNIEXPORT jint JNICALL JNI_FN(noop)(JNIEnv *env, jclass cls) {
    (void)env;
    (void)cls;
    return shim_sizeof_addr();
}

JNIEXPORT jint JNICALL JNI_FN(recv)(JNIEnv *env, jclass cls, jint fd, jlong buf, jint len) {
    (void)env;
    (void)cls;
    return shim_recv(fd, buf, len);
}

JNIEXPORT jint JNICALL JNI_FN(send)(JNIEnv *env, jclass cls, jint fd, jlong buf, jint len) {
    (void)env;
    (void)cls;
    return shim_send(fd, buf, len);
}

JNIEXPORT jint JNICALL JNI_FN(epollWait)(JNIEnv *env, jclass cls, jint epfd, jlong out, jint max, jint timeout_ms) {
    (void)env;
    (void)cls;
    return shim_epoll_wait(epfd, out, max, timeout_ms);
}

JNIEXPORT jint JNICALL JNI_FN(epollCtl)(JNIEnv *env, jclass cls, jint epfd, jint op, jint fd, jint events, jlong token) {
    (void)env;
    (void)cls;
    return shim_epoll_ctl(epfd, op, fd, events, token);
}
