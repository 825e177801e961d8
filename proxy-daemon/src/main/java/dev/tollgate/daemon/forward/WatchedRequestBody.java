package dev.tollgate.daemon.forward;

import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.thread.Scheduler;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The client's request body on its way to the origin, watched: when no body byte arrived for
 * {@code requestBodyStallTimeoutMs}, the upstream exchange is aborted and the client answered 408 (its row says
 * CLIENT_TIMEOUT); when reading it fails (bad framing, the client gone), the failure is reported before the
 * upstream exchange fails with it. Checks run on the HttpClient's scheduler, one pending at a time.
 */
final class WatchedRequestBody implements Request.Content {

    private static final int REQUEST_TIMEOUT = 408;

    private final Request.Content body;
    private final Request proxyRequest;
    private final Scheduler scheduler;
    private final long stallMs;
    private final long stallNanos;
    private final Consumer<Throwable> onClientFailure;
    private volatile long lastProgressNanos = System.nanoTime();
    private volatile boolean finished;
    private volatile Scheduler.Task pending;

    /**
     * @param body            the client's body as Jetty reads it
     * @param proxyRequest    the request to the origin, aborted on a stall
     * @param stallMs         {@code requestBodyStallTimeoutMs}
     * @param onClientFailure told when reading the client's body failed
     */
    WatchedRequestBody(Request.Content body, Request proxyRequest, Scheduler scheduler, long stallMs,
                       Consumer<Throwable> onClientFailure) {
        this.body = body;
        this.proxyRequest = proxyRequest;
        this.scheduler = scheduler;
        this.stallMs = stallMs;
        this.stallNanos = TimeUnit.MILLISECONDS.toNanos(stallMs);
        this.onClientFailure = onClientFailure;
        schedule(stallNanos);
    }

    private void schedule(long delayNanos) {
        pending = scheduler.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check() {
        if (finished) {
            return;
        }
        long quiet = System.nanoTime() - lastProgressNanos;
        if (quiet < stallNanos) {
            schedule(stallNanos - quiet);
            return;
        }
        finished = true;
        proxyRequest.abort(new RequestRefusedException(REQUEST_TIMEOUT, Outcome.CLIENT_TIMEOUT,
                "request body stalled: no byte arrived for " + stallMs + " ms (requestBodyStallTimeoutMs)"));
    }

    private void stop() {
        finished = true;
        Scheduler.Task task = pending;
        if (task != null) {
            task.cancel();
        }
    }

    @Override
    public Content.Chunk read() {
        Content.Chunk chunk = body.read();
        if (chunk == null) {
            return null;
        }
        if (Content.Chunk.isFailure(chunk)) {
            if (!finished) {
                stop();
                onClientFailure.accept(chunk.getFailure());
            }
        } else {
            lastProgressNanos = System.nanoTime();
            if (chunk.isLast()) {
                stop();
            }
        }
        return chunk;
    }

    @Override
    public void demand(Runnable demandCallback) {
        body.demand(demandCallback);
    }

    @Override
    public void fail(Throwable failure) {
        stop();
        body.fail(failure);
    }

    @Override
    public void fail(Throwable failure, boolean last) {
        stop();
        body.fail(failure, last);
    }

    @Override
    public long getLength() {
        return body.getLength();
    }

    @Override
    public String getContentType() {
        return body.getContentType();
    }

    @Override
    public boolean rewind() {
        return body.rewind();
    }
}
