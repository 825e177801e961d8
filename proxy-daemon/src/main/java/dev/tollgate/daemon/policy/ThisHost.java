package dev.tollgate.daemon.policy;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;

/**
 * The addresses that reach this host, in every spelling: loopback ({@code 127.0.0.0/8}, {@code ::1}), the
 * unspecified addresses ({@code 0.0.0.0/8} and {@code ::}, which Linux connects to the local host), the
 * addresses of the host's own interfaces, and each of these embedded in an IPv6 address that carries an IPv4
 * one (IPv4-mapped, IPv4-compatible, NAT64 {@code 64:ff9b::/96}, 6to4 {@code 2002::/16}).
 * <p>
 * This is the rule behind {@code allowLocalHost} (off by default), which holds whatever an operator writes in
 * {@code denyDestinations}: a proxy that can be made to reach its own host exposes every service that trusts
 * loopback (smokescreen refuses its own addresses for the same reason). Interfaces can gain addresses while the
 * daemon runs (DHCP, a VPN coming up), so their list is read again when it is older than
 * {@value #INTERFACES_MAX_AGE_MS} ms.
 */
public final class ThisHost {

    private static final long INTERFACES_MAX_AGE_MS = 5_000;

    private static volatile Snapshot interfaces = new Snapshot(0, Set.of());

    private ThisHost() {
    }

    /** Whether {@code address}, or the IPv4 address it embeds, reaches this host. */
    public static boolean contains(InetAddress address) {
        if (address == null) {
            return false;
        }
        if (reachesThisHost(address)) {
            return true;
        }
        InetAddress embedded = embeddedIpv4(address);
        return embedded != null && reachesThisHost(embedded);
    }

    /**
     * The IPv4 address an IPv6 address carries in its last 32 bits (IPv4-mapped {@code ::ffff:0:0/96},
     * IPv4-compatible {@code ::/96} but for {@code ::0.0.0.x}, NAT64 {@code 64:ff9b::/96}, RFC 6052) or in bits 16 to 47 (6to4
     * {@code 2002::/16}, RFC 3056), or null when it carries none. {@code ::} and {@code ::1} carry none: they are
     * IPv6's own unspecified and loopback addresses, and are recognised as such.
     */
    public static InetAddress embeddedIpv4(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return null;
        }
        byte[] a = address.getAddress();
        if (a[0] == 0x20 && a[1] == 0x02) {
            return ipv4(a, 2);
        }
        boolean zeroes80 = allZero(a, 0, 10);
        boolean mapped = zeroes80 && (a[10] & 0xFF) == 0xFF && (a[11] & 0xFF) == 0xFF;
        boolean compatible = zeroes80 && a[10] == 0 && a[11] == 0 && !allZero(a, 12, 14);
        boolean nat64 = a[0] == 0x00 && (a[1] & 0xFF) == 0x64 && (a[2] & 0xFF) == 0xFF && (a[3] & 0xFF) == 0x9B
                && allZero(a, 4, 11);
        return mapped || compatible || nat64 ? ipv4(a, 12) : null;
    }

    private static boolean reachesThisHost(InetAddress address) {
        if (address.isLoopbackAddress() || address.isAnyLocalAddress()) {
            return true;
        }
        if (address instanceof Inet4Address && address.getAddress()[0] == 0) {
            return true; // 0.0.0.0/8, "this network" (RFC 1122 3.2.1.3): Linux connects 0.x.y.z locally
        }
        return interfaceAddresses().contains(address);
    }

    /** The host's interface addresses now (read again after {@value #INTERFACES_MAX_AGE_MS} ms). */
    public static Set<InetAddress> interfaceAddresses() {
        Snapshot current = interfaces;
        long now = System.nanoTime();
        if (current.readAtNanos != 0 && now - current.readAtNanos < INTERFACES_MAX_AGE_MS * 1_000_000L) {
            return current.addresses;
        }
        Set<InetAddress> addresses = new HashSet<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                    addresses.add(withoutScope(address));
                }
            }
        } catch (SocketException e) {
            // Loopback and the unspecified addresses are still recognised without the interface list.
        }
        Snapshot next = new Snapshot(now == 0 ? 1 : now, Set.copyOf(addresses));
        interfaces = next;
        return next.addresses;
    }

    /** An interface's IPv6 address carries its scope ({@code fe80::1%eth0}); a dialled one may not. */
    private static InetAddress withoutScope(InetAddress address) {
        if (address instanceof Inet6Address v6 && v6.getScopeId() != 0) {
            try {
                return InetAddress.getByAddress(v6.getAddress());
            } catch (UnknownHostException e) {
                return address;
            }
        }
        return address;
    }

    private static InetAddress ipv4(byte[] a, int from) {
        try {
            return InetAddress.getByAddress(new byte[] {a[from], a[from + 1], a[from + 2], a[from + 3]});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an IPv4 address
        }
    }

    private static boolean allZero(byte[] a, int from, int toInclusive) {
        for (int i = from; i <= toInclusive && i < a.length; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private record Snapshot(long readAtNanos, Set<InetAddress> addresses) {
    }
}
