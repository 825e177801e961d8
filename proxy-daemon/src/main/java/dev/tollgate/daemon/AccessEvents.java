package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;

import java.util.List;
import java.util.function.Consumer;

/**
 * The one event, handed to each of its consumers in turn: the access-log writer now, the live stats and the
 * metrics as they arrive. Nothing counts a request twice in two places.
 */
final class AccessEvents implements Consumer<AccessRecord> {

    private final List<Consumer<AccessRecord>> consumers;

    AccessEvents(List<Consumer<AccessRecord>> consumers) {
        this.consumers = List.copyOf(consumers);
    }

    @Override
    public void accept(AccessRecord record) {
        for (Consumer<AccessRecord> consumer : consumers) {
            consumer.accept(record);
        }
    }
}
