package org.epollproxy.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.util.Iterator;

/**
 * A listening socket on 127.0.0.1 and one Selector thread serving it: the part the echo backend and
 * the NIO reference forwarder share. The listener's key has no attachment; every other key does.
 * Subclasses call {@link #start} at the end of their constructor, once their own fields are set.
 */
public abstract class SelectorServer implements AutoCloseable {
    protected final Selector selector;
    protected final ServerSocketChannel server;
    private final Thread thread;
    private volatile boolean stopping;

    protected SelectorServer(int port, int backlog, String threadName) {
        try {
            selector = Selector.open();
            server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress("127.0.0.1", port), backlog);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
    }

    protected final void start() {
        thread.start();
    }

    /** The listener is readable: accept what is pending. */
    protected abstract void onAccept() throws IOException;

    /** A connection's key (it has an attachment) is ready. */
    protected abstract void onReady(SelectionKey key);

    public int port() {
        return server.socket().getLocalPort();
    }

    /** Blocks until the serving thread ends. */
    public void join() throws InterruptedException {
        thread.join();
    }

    @Override
    public void close() {
        stopping = true;
        selector.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            while (!stopping) {
                selector.select();
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey key = it.next();
                    it.remove();
                    if (!key.isValid()) continue;
                    if (key.attachment() == null) onAccept();
                    else onReady(key);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (SelectionKey key : selector.keys()) closeQuietly(key.channel());
            closeQuietly(selector);
        }
    }

    public static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing during teardown or after a reset: nothing left to do
        }
    }
}
