package org.epollproxy.cli;
public final class HaltExit {
    public static void exit(int status) { System.out.flush(); System.err.flush(); Runtime.getRuntime().halt(status); }
}
