package dev.tollgate.daemon.sink;

import java.io.IOException;
import java.util.List;

/**
 * How a push sink's records reach its receiver (syslog over TCP or RELP, OTLP over HTTP, a file). The sink's pump
 * (the sink's pump) reads the records from the journal, calls {@link #deliver} with a batch, and commits the batch
 * as delivered only when it returns; when it throws, the same batch is delivered again later, after a backoff,
 * so a transport may be handed a record twice but never skips one. One thread calls it.
 */
public interface SinkTransport extends AutoCloseable {

    /**
     * Sends {@code events}, in order, and returns once the receiver has taken them as far as its protocol can say
     * (written to the socket and flushed for syslog over TCP, every record answered 200 for RELP, a 2xx answer for
     * OTLP, written for a file). Connects first when not connected; a broken connection is dropped, so the next call
     * connects again.
     *
     * @throws IOException when they could not all be sent: the message says why in one line a person can act on
     *                     ("connection refused by 127.0.0.1:6514", "TLS: certificate of 127.0.0.1 not trusted")
     */
    void deliver(List<SinkEvent> events) throws IOException;

    /** Where the records go, for health and logs: {@code syslog+tls://host:port}, a URL, a file's path. */
    String target();

    /** Closes the connection or file; {@link #deliver} may open it again. */
    @Override
    void close();
}
