package dev.tollgate.daemon;

import dev.tollgate.daemon.exchange.AccessRecordSink;
import dev.tollgate.store.AccessRecord;

import java.util.List;
import java.util.function.Consumer;

/**
 * The one event, handed to each of its consumers in turn: the journal and the access-log writer first (possibly
 * earlier, before the client has the end of its answer), then the live stats and the metrics as the exchange
 * ends. Nothing counts a request twice in two places.
 */
final class AccessEvents implements AccessRecordSink {

    private final AccessLogSink log;
    private final List<Consumer<AccessRecord>> observers;

    AccessEvents(AccessLogSink log, List<Consumer<AccessRecord>> observers) {
        this.log = log;
        this.observers = List.copyOf(observers);
    }

    @Override
    public void journal(AccessRecord record) {
        log.journal(record);
    }

    @Override
    public void ended(AccessRecord record) {
        for (Consumer<AccessRecord> observer : observers) {
            observer.accept(record);
        }
    }
}
