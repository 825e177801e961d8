package dev.tollgate.store.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;

/**
 * Unmaps a {@link MappedByteBuffer} at once, as Lucene's MMapDirectory does on Java 17: Java has no public way to
 * (a mapping lasts until the collector finds its buffer unreachable, which for a buffer that lived long enough to
 * be promoted can be hours), and a journal segment's map must not outlive the segment, or its pages stay in the
 * daemon's memory and a deleted file's blocks stay taken. {@code sun.misc.Unsafe.invokeCleaner}, in the exported
 * {@code jdk.unsupported} module, runs the buffer's cleaner. Found by reflection, so that the build does not
 * depend on it: where it is missing, the collector unmaps, as before.
 * <p>
 * The caller must make sure that nothing touches the buffer afterwards: an access to an unmapped buffer crashes
 * the JVM. {@link JournalSegment} touches its window under the journal's append lock only, and unmaps it there.
 */
final class Unmapper {

    private static final Logger LOG = LoggerFactory.getLogger(Unmapper.class);
    private static final MethodHandle INVOKE_CLEANER = invokeCleaner();

    private Unmapper() {
    }

    static void unmap(MappedByteBuffer buffer) {
        if (INVOKE_CLEANER == null) {
            return;
        }
        try {
            INVOKE_CLEANER.invokeExact((ByteBuffer) buffer);
        } catch (Throwable e) {
            LOG.debug("unmapping a journal window failed; the collector will", e);
        }
    }

    private static MethodHandle invokeCleaner() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            return MethodHandles.lookup().findVirtual(unsafeClass, "invokeCleaner",
                    MethodType.methodType(void.class, ByteBuffer.class)).bindTo(theUnsafe.get(null));
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.info("journal windows are unmapped by the collector, not at once: {}", e.toString());
            return null;
        }
    }
}
