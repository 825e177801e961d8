package dev.tollgate.daemon.policy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Address literals as the policy reads them: the spellings that are addresses give the address they spell, and
 * anything else, names and malformed literals alike, gives null (a name is never resolved here: the policy decides
 * on what the client wrote, docs/policy.md).
 */
class AddressLiteralsTest {

    @ParameterizedTest
    @CsvSource({"10.0.0.1, 10.0.0.1", "0.0.0.0, 0.0.0.0", "255.255.255.255, 255.255.255.255",
            "127.000.000.001, 127.0.0.1", "[::1], 0:0:0:0:0:0:0:1", "::1, 0:0:0:0:0:0:0:1",
            "fe80::1, fe80:0:0:0:0:0:0:1", "2001:db8::a, 2001:db8:0:0:0:0:0:a", "[2001:DB8::A], 2001:db8:0:0:0:0:0:a",
            "::ffff:10.0.0.1, 10.0.0.1"})
    void anAddressGivesTheAddressItSpells(String host, String address) {
        InetAddress parsed = AddressLiterals.parse(host);
        assertEquals(address, parsed == null ? null : parsed.getHostAddress(), host);
    }

    @ParameterizedTest
    @ValueSource(strings = {"example.com", "localhost", "999.1.1.1", "256.0.0.1", "1.2.3", "1.2.3.4.5", "1.2.3.4.",
            "1.2.3.0004", "zz:1", "localhost:", "::g", "[]", "[example.com]", "1:2:3:4:5:6:7:8:9", ":"})
    void aNameOrAMalformedLiteralGivesNull(String host) {
        assertNull(AddressLiterals.parse(host), host);
    }

    @Test
    void theDottedQuadIsFourNumbersUpTo255() {
        assertTrue(AddressLiterals.isDottedQuad("1.2.3.4"));
        assertTrue(AddressLiterals.isDottedQuad("001.002.003.004"));
        assertFalse(AddressLiterals.isDottedQuad("1.2.3.256"));
        assertFalse(AddressLiterals.isDottedQuad("1.2.3"));
        assertFalse(AddressLiterals.isDottedQuad("1.2.3."));
        assertFalse(AddressLiterals.isDottedQuad("1..2.3"));
        assertFalse(AddressLiterals.isDottedQuad("0x7f.0.0.1"));
        assertFalse(AddressLiterals.isDottedQuad(""));
    }
}
