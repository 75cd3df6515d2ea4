package org.epollproxy.bench.fwd;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ResourceLeakDetector;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference Netty forwarder on Netty's native epoll transport, in the style of Netty's
 * HexDumpProxy example (backend connected from the client channel's own event loop, client reads
 * start once the backend is up) without logging, plus what a production relay needs:
 *
 * <ul>
 *   <li>Backpressure by toggling autoRead: when the peer's outbound buffer passes the high water mark
 *       (64 KiB, the same per-direction budget as the other forwarders) this side stops reading, and
 *       reads again when the peer becomes writable.
 *   <li>Half-close: a FIN becomes shutdownOutput() on the peer after the writes before it went out;
 *       both sides close when both directions are shut.
 *   <li>One event loop thread (the other forwarders have one too); leak detection off, as in production.
 * </ul>
 */
final class NettyForwarder implements BenchForwarder {
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(BUFFER_SIZE / 2, BUFFER_SIZE);

    private final EventLoopGroup group;
    private final Channel server;
    private final InetSocketAddress backendAddress;

    NettyForwarder(int backendPort) {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        backendAddress = new InetSocketAddress("127.0.0.1", backendPort);
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.AUTO_READ, false) // read once the backend is connected
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Frontend());
                    }
                });
        server = b.bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    @Override
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 5, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * On a new client: connect the backend on the same event loop, then start relaying both ways.
     *
     * <p>Reads are off until then, but not entirely: when the client's FIN arrives, Netty's epoll transport
     * reads the socket to its end whatever autoRead says (it must see the EOF). A client that sends a
     * request and its FIN at once can so have all of it read before the backend is up; those bytes and
     * the FIN are kept here and passed on once it is (dropping them, as an unhandled read is, loses the
     * request and forwards an empty stream). Bounded by the socket's receive buffer.
     */
    private final class Frontend extends ChannelInboundHandlerAdapter {
        private final List<Object> early = new ArrayList<>();
        private boolean earlyFin;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            early.add(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) earlyFin = true;
            else ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            early.forEach(ReferenceCountUtil::release); // empty unless the client went away first
            early.clear();
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel client = ctx.channel();
            Relay toBackend = new Relay(null); // its peer is set once the backend is connected
            Bootstrap b = new Bootstrap()
                    .group(client.eventLoop())
                    .channel(EpollSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                    .handler(new Relay(client));
            b.connect(backendAddress).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess() && !client.isActive()) {
                    f.channel().close();
                } else if (f.isSuccess()) {
                    Channel backend = f.channel();
                    toBackend.peer = backend;
                    for (Object msg : early) backend.write(msg, backend.voidPromise());
                    early.clear();
                    backend.flush();
                    ctx.pipeline().replace(this, "relay", toBackend);
                    if (earlyFin) toBackend.passFinOn(client);
                    else client.config().setAutoRead(true);
                } else {
                    client.close();
                }
            });
        }
    }

    /** Relays what its channel reads to {@link #peer}. */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        Channel peer;

        Relay(Channel peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            peer.write(msg, peer.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer.flush();
            if (!peer.isWritable()) ctx.channel().config().setAutoRead(false);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && peer.isActive()) peer.config().setAutoRead(true);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (!(evt instanceof ChannelInputShutdownEvent)) {
                ctx.fireUserEventTriggered(evt);
                return;
            }
            passFinOn(ctx.channel());
        }

        /** {@code self} read its peer's FIN: shut {@link #peer}'s output once what was queued before it went out. */
        void passFinOn(Channel self) {
            // The empty write completes after everything queued before it: only then pass the FIN on.
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    closeBoth(self);
                    return;
                }
                ((DuplexChannel) peer).shutdownOutput().addListener((ChannelFutureListener) s -> {
                    DuplexChannel p = (DuplexChannel) peer;
                    if (!s.isSuccess() || (p.isInputShutdown() && ((DuplexChannel) self).isOutputShutdown())) {
                        closeBoth(self);
                    }
                });
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (peer != null && peer.isActive()) {
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeBoth(ctx.channel());
        }

        private void closeBoth(Channel self) {
            self.close();
            if (peer != null) peer.close();
        }
    }
}
