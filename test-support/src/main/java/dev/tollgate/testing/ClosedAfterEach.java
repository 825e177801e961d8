package dev.tollgate.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a test opened (origins, daemons, clients), closed after it in the reverse order, so that a daemon stops
 * before the origins it forwards to. Register it as a field, {@code @RegisterExtension final ClosedAfterEach
 * closed = new ClosedAfterEach();}, and open through it: {@code origin = closed.add(WebOrigin.plain());}. Every
 * resource is closed even when one fails to; the first failure is thrown with the others suppressed in it.
 */
public final class ClosedAfterEach implements AfterEachCallback {

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();

    /** Closes {@code resource} after the test, before everything added earlier; returns it. */
    public <T extends AutoCloseable> T add(T resource) {
        opened.push(resource);
        return resource;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        Exception first = null;
        while (!opened.isEmpty()) {
            try {
                opened.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
