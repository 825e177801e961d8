package dev.tollgate.admin;

/** A request the daemon cannot carry out, with the reason a person can act on and the kind of refusal. */
public final class ControlException extends Exception {

    /** The kinds of refusal, each with its HTTP status. */
    public enum Kind {
        BAD_REQUEST(400),
        NOT_FOUND(404),
        CONFLICT(409);

        private final int status;

        Kind(int status) {
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Kind kind;

    public ControlException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
