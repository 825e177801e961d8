package dev.tollgate.daemon.proxy;

/** A CONNECT target in authority-form ({@code host:port}, {@code [v6]:port}); invalid when the port is missing. */
record HostAndPort(String host, int port, boolean valid) {

    static HostAndPort parse(String authority) {
        if (authority == null || authority.isBlank()) {
            return new HostAndPort(null, 0, false);
        }
        int colon = authority.lastIndexOf(':');
        int bracket = authority.lastIndexOf(']');
        if (colon < 0 || colon < bracket) {
            String host = authority.startsWith("[") && bracket > 0 ? authority.substring(1, bracket) : authority;
            return new HostAndPort(host, 0, false);
        }
        String host = authority.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(authority.substring(colon + 1));
        } catch (NumberFormatException e) {
            return new HostAndPort(host, 0, false);
        }
        boolean valid = !host.isEmpty() && port > 0 && port <= 65_535;
        return new HostAndPort(host, valid ? port : 0, valid);
    }
}
