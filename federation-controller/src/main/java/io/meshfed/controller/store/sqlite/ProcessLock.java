package io.meshfed.controller.store.sqlite;

import io.meshfed.controller.store.OwnerOnly;
import io.meshfed.controller.store.StoreException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The operating system's exclusive lock on {@code FILE.lock} beside a store file, held while the store is open, so
 * that a second controller (another process, or another handle in this one) on the same data directory is refused
 * with the holder's process id instead of corrupting the store. The kernel releases it when the process dies, even
 * by {@code kill -9}: a stale lock file never keeps a controller from starting.
 */
final class ProcessLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private ProcessLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static ProcessLock acquire(Path storeFile) throws IOException {
        Path lockFile = Path.of(storeFile + ".lock");
        OwnerOnly.file(lockFile);
        FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this process already
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            String holder = holder(lockFile);
            channel.close();
            throw new StoreException("the store " + storeFile + " is in use by another controller"
                    + (holder.isEmpty() ? "" : " (process " + holder + ")") + ": stop it first, or give this one"
                    + " another data directory", null);
        }
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        channel.force(false);
        return new ProcessLock(channel, lock);
    }

    private static String holder(Path lockFile) {
        try {
            String pid = Files.readString(lockFile, StandardCharsets.US_ASCII).trim();
            return pid.matches("[0-9]{1,10}") ? pid : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
