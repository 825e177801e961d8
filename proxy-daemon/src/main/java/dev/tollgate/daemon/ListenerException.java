package dev.tollgate.daemon;

/** Why a listener could not be added, started, stopped or removed. */
final class ListenerException extends Exception {

    enum Reason {
        NOT_FOUND,
        NAME_TAKEN,
        ALREADY,
        CANNOT_BIND,
        /** The definition names a file that cannot be read (users file, parent password file). */
        INVALID
    }

    private final Reason reason;

    ListenerException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    Reason reason() {
        return reason;
    }
}
