package org.epollproxy.shim;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * The real shim with a test's code around its calls: refuse one (return an -errno without calling the
 * kernel), race another thread at the worst moment, or record what the real call answered. Every call
 * reaches {@link Around#call} with its name and arguments; {@code real.invoke()} makes it on the real
 * kernel and returns its answer, and the shim's own exceptions come out unwrapped.
 */
public final class InterposedKernel {

    /** The code around each call; returns what the proxy answers for it. */
    @FunctionalInterface
    public interface Around {
        Object call(String name, Object[] args, RealCall real) throws Throwable;
    }

    /** The same call on the real kernel. */
    @FunctionalInterface
    public interface RealCall {
        Object invoke() throws Throwable;
    }

    public static Kernel over(Kernel real, Around around) {
        return (Kernel) Proxy.newProxyInstance(Kernel.class.getClassLoader(), new Class<?>[] {Kernel.class},
                (proxy, method, args) -> around.call(method.getName(), args, () -> invoke(real, method, args)));
    }

    private static Object invoke(Kernel real, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(real, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private InterposedKernel() {}
}
