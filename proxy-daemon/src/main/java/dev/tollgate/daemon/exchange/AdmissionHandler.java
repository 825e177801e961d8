package dev.tollgate.daemon.exchange;

import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.util.function.BooleanSupplier;

/**
 * The first step of every request on a listener: while the access log cannot take another record, a new
 * request is answered 503 with {@code Retry-After} before anything else happens, so that no request is
 * forwarded without its row (the {@code refuse} overflow policy). Its own refusal is recorded when there is
 * room, and always counted.
 */
public final class AdmissionHandler extends Handler.Wrapper {

    /** Seconds a refused client is asked to wait: long enough for a busy writer to catch up. */
    static final String RETRY_AFTER_SECONDS = "5";
    private static final int SERVICE_UNAVAILABLE = 503;

    private final BooleanSupplier accessLogFull;
    private final boolean logQuery;
    private final AccessRecorder recorder;

    /**
     * @param next          the listener's chain
     * @param accessLogFull whether the access-log queue is full right now
     * @param logQuery      the listener's {@code logQuery}: a refusal's row keeps the query as a forwarded row would
     * @param recorder      journals each request's record before the end of its answer ({@link JournaledResponse})
     */
    public AdmissionHandler(Handler next, BooleanSupplier accessLogFull, boolean logQuery, AccessRecorder recorder) {
        super(next);
        this.recorder = recorder;
        this.accessLogFull = accessLogFull;
        this.logQuery = logQuery;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        request.addHttpStreamWrapper(stream -> new JournaledResponse(stream, request, recorder));
        if (!accessLogFull.getAsBoolean()) {
            return super.handle(request, response, callback);
        }
        RequestRefusedException refused = new RequestRefusedException(SERVICE_UNAVAILABLE, Outcome.OVERLOADED,
                "the access log cannot keep up (the database or a push sink is behind: see /api/v1/health): the"
                        + " request was not forwarded; retry in "
                        + RETRY_AFTER_SECONDS + " s");
        ExchangeFacts facts = ExchangeFacts.forward(logQuery);
        facts.refused(refused.outcome(), refused.reason());
        request.setAttribute(ExchangeFacts.ATTRIBUTE, facts);
        response.getHeaders().put(HttpHeader.RETRY_AFTER, RETRY_AFTER_SECONDS);
        RefusalResponse.send(response, callback, refused);
        return true;
    }
}
