package dev.tollgate.daemon;

import dev.tollgate.daemon.cli.Main;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {

    @Command(name = "broken")
    static final class Broken implements Runnable {
        @Override
        public void run() {
            throw new NoClassDefFoundError("dev/tollgate/Missing");
        }
    }

    @Test
    void anErrorLeavingTheCommandIsReportedAndEndsWithExitCode1() {
        StringWriter err = new StringWriter();
        CommandLine commandLine = new CommandLine(new Broken()).setErr(new PrintWriter(err, true));

        assertEquals(Main.EXIT_FAILURE, Main.execute(commandLine, new String[0]));
        assertTrue(err.toString().startsWith("tollgate: internal error: java.lang.NoClassDefFoundError"), err::toString);
    }

    @Test
    void aBadOptionIsStillAUsageErrorWithExitCode2() {
        StringWriter err = new StringWriter();
        CommandLine commandLine = Main.newCommandLine().setErr(new PrintWriter(err, true));

        assertEquals(Main.EXIT_USAGE, Main.execute(commandLine, new String[] {"run", "--no-such-option"}));
    }
}
