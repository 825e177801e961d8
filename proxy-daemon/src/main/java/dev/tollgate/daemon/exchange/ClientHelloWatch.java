package dev.tollgate.daemon.exchange;

import dev.tollgate.daemon.gate.AdmissionGate;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.daemon.tls.ClientHello;
import dev.tollgate.daemon.tls.ClientHelloReader;
import org.eclipse.jetty.util.BufferUtil;

import java.nio.ByteBuffer;

/**
 * One tunnel's look at its client's ClientHello, in the bytes from the client as they pass (never decrypted).
 * <p>
 * Without a rule on the ClientHello (the default), the bytes pass on at once and are only read on their way: the
 * tunnel is not delayed at all, and what the first record says goes into the row. With a rule
 * ({@code tls.requireSniMatch}, {@code tls.domainRulesOnSni}) the bytes are <em>held</em> until the ClientHello
 * has been read and judged, so that a refused tunnel is closed before the upstream sees a byte of it: that costs
 * the tunnel the time the client takes to send its one record (a single TCP segment for most clients), nothing
 * after. Either way the wait is bounded: {@code tls.clientHelloTimeoutMs} and {@link ClientHelloReader#MAX_BYTES}.
 * <p>
 * Called by the client side's connection, one read at a time, and by the timeout's thread: the decision is made
 * once, under this object's lock.
 */
public final class ClientHelloWatch {

    private final String host;
    private final AdmissionGate gate;
    private final TunnelSession session;
    private final boolean holds;
    private final long deadlineNanos;
    private final long timeoutMs;
    // Guarded by this.
    private ClientHelloReader reader;
    private ByteBuffer held;
    private boolean decided;
    private RequestRefusedException refusal;

    public ClientHelloWatch(String host, AdmissionGate gate, TunnelSession session, long timeoutMs) {
        this.host = host;
        this.gate = gate;
        this.session = session;
        this.holds = gate.holdsClientHello(host);
        this.timeoutMs = timeoutMs;
        this.deadlineNanos = System.nanoTime() + timeoutMs * 1_000_000L;
    }

    /** Whether the client's bytes are held until the ClientHello has been judged. */
    boolean holds() {
        return holds;
    }

    /** Whether bytes from the client must still go to {@link #hold} instead of on to the upstream. */
    public synchronized boolean holding() {
        return holds && !decided;
    }

    /** The buffer a holding tunnel reads the client into (flush mode; Jetty's fill appends to it). */
    public synchronized ByteBuffer holdBuffer() {
        if (held == null) {
            held = BufferUtil.allocate(ClientHelloReader.MAX_BYTES);
        }
        return held;
    }

    /**
     * A pass-through tunnel's bytes from the client, {@code bytes}' position to its limit, read on their way (neither
     * moved). Past the deadline nothing more is read.
     */
    public synchronized void observe(ByteBuffer bytes) {
        if (decided || !bytes.hasRemaining()) {
            return;
        }
        if (System.nanoTime() - deadlineNanos > 0) {
            decide(reader().giveUp("within " + timeoutMs + " ms"));
            return;
        }
        ClientHello hello = reader().offer(bytes);
        if (hello != null) {
            decide(hello);
        }
    }

    /**
     * A holding tunnel's new bytes, from {@code from} to the hold buffer's limit, or none at the client's end of
     * stream ({@code clientEnded}).
     *
     * @return whether the ClientHello has been judged: then {@link #release} says what to do with the held bytes
     */
    public synchronized boolean held(int from, boolean clientEnded) {
        if (decided) {
            return true;
        }
        ByteBuffer fresh = held.duplicate();
        fresh.position(from);
        ClientHello hello = reader().offer(fresh);
        if (hello == null && clientEnded) {
            // Judged on what came; nothing at all is judged as no ClientHello.
            decide(reader().giveUp("before the client closed its side"));
        } else if (hello != null) {
            decide(hello);
        }
        return decided;
    }

    /**
     * After the decision, the held bytes to send on (and forget), or the refusal: thrown, the tunnel is closed
     * with nothing of what was held sent upstream.
     */
    public synchronized ByteBuffer release() throws RequestRefusedException {
        if (refusal != null) {
            throw refusal;
        }
        ByteBuffer bytes = held;
        held = null;
        return bytes;
    }

    /**
     * Called when the deadline passes: a holding tunnel whose ClientHello has not come is refused (its rules cannot be
     * checked).
     *
     * @return the refusal, when this call refused the tunnel; else null
     */
    public synchronized RequestRefusedException expire() {
        if (decided) {
            return null;
        }
        decide(reader == null ? null : reader.giveUp("within " + timeoutMs + " ms"));
        return refusal;
    }

    /** When the tunnel closes: what was seen is what the row says. */
    synchronized void closed() {
        if (!decided) {
            decided = true;
            if (reader != null) {
                session.sawClientHello(reader.giveUp("before the tunnel closed"));
            }
            reader = null;
            held = null;
        }
    }

    private ClientHelloReader reader() {
        if (reader == null) {
            reader = new ClientHelloReader();
        }
        return reader;
    }

    private void decide(ClientHello hello) {
        decided = true;
        reader = null;
        session.sawClientHello(hello);
        try {
            gate.checkClientHello(host, hello, session::wouldDeny);
        } catch (RequestRefusedException refused) {
            refusal = refused;
            session.deniedAfterEstablished(refused.reason());
            held = null;
        }
    }
}
