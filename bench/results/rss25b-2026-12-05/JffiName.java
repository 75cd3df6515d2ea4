package com.kenai.jffi.internal;
public final class JffiName {
    public static String format(String f, Object[] a) { return "jffi-" + a[0] + "." + a[1]; }
}
