package dev.tollgate.daemon.sink;

import dev.tollgate.daemon.config.SinkConfig;

import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** What the two syslog transports (TCP or TLS, RELP) share about their connection to the receiver. */
final class SyslogSockets {

    private SyslogSockets() {
    }

    /** The receiver's {@code host:port}, an IPv6 literal in brackets. */
    static String address(SinkConfig config) {
        return (config.host().indexOf(':') >= 0 ? "[" + config.host() + "]" : config.host()) + ":" + config.port();
    }

    /**
     * A thread that closes a connection whose write or answer takes too long: a socket's read has a timeout, but a
     * write to a receiver that stopped reading would block for ever.
     */
    static ScheduledExecutorService watchdog(SinkConfig config, String what) {
        return Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "tollgate-sink-" + config.name() + "-" + what + "-watchdog");
            thread.setDaemon(true);
            return thread;
        });
    }

    static void closeQuietly(Socket socket) {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // already broken: nothing more to release
            }
        }
    }
}
