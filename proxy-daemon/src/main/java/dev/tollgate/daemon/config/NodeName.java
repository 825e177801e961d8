package dev.tollgate.daemon.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** The default node name: this machine's host name, without its domain. */
final class NodeName {

    private NodeName() {
    }

    static String ofThisHost() {
        String name = System.getenv("HOSTNAME");
        if (name == null || name.isBlank()) {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                name = "localhost";
            }
        }
        int dot = name.indexOf('.');
        String shortName = dot > 0 ? name.substring(0, dot) : name;
        return shortName.matches("[A-Za-z0-9._-]{1,255}") ? shortName : "localhost";
    }
}
