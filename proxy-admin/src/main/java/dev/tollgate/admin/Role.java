package dev.tollgate.admin;

/** Who a bearer token belongs to. An admin may do everything; an auditor may only read. */
public enum Role {
    ADMIN,
    AUDITOR;

    /** Whether this role may make a call that needs {@code needed}. */
    public boolean mayAct(Role needed) {
        return this == ADMIN || needed == AUDITOR;
    }
}
