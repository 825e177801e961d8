package dev.tollgate.admin.internal;

import dev.tollgate.admin.ControlException;

/** Calls into the daemon whose refusals ({@link ControlException}) become API answers with the same status. */
final class ControlCalls {

    private ControlCalls() {
    }

    static <T> T call(ControlCall<T> call) throws ApiException {
        try {
            return call.run();
        } catch (ControlException e) {
            throw new ApiException(e.kind().status(), e.getMessage());
        }
    }

    @FunctionalInterface
    interface ControlCall<T> {
        T run() throws ControlException;
    }
}
