package dev.tollgate.testing.origins;

import dev.tollgate.testing.RawHttpConnection;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A loopback port that is listening but never accepts, with its accept queue (backlog 1) filled by plain
 * connections, so that the kernel drops further SYNs (Linux, {@code tcp_abort_on_overflow=0}) and a dial to it
 * neither succeeds nor is refused: it times out, with no packet leaving the machine.
 */
public final class UnacceptingOrigin implements AutoCloseable {

    private static final int MAX_FILLERS = 16;
    /** Only decides when to stop filling; nothing is asserted about it. */
    private static final int PROBE_TIMEOUT_MS = 1000;

    private final ServerSocket serverSocket;
    private final List<Socket> fillers = new ArrayList<>();

    private UnacceptingOrigin() throws IOException {
        serverSocket = new ServerSocket(0, 1, RawHttpConnection.loopback());
    }

    /**
     * Connects until a connect times out: from then on the queue is full and SYNs are dropped. Skips the test
     * (an assumption) where the kernel keeps completing connections to a full queue.
     */
    public static UnacceptingOrigin filled() throws IOException {
        UnacceptingOrigin origin = new UnacceptingOrigin();
        try {
            for (int i = 0; i < MAX_FILLERS; i++) {
                Socket filler = new Socket();
                try {
                    filler.connect(new InetSocketAddress(RawHttpConnection.loopback(), origin.port()),
                            PROBE_TIMEOUT_MS);
                    origin.fillers.add(filler);
                } catch (SocketTimeoutException full) {
                    filler.close();
                    return origin;
                }
            }
            assumeTrue(false, "the kernel kept completing connections to a full accept queue, so a connect"
                    + " timeout cannot be provoked on loopback here");
            return origin;
        } catch (IOException | RuntimeException | Error e) {
            origin.close();
            throw e;
        }
    }

    public int port() {
        return serverSocket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        for (Socket filler : fillers) {
            filler.close();
        }
        serverSocket.close();
    }
}
