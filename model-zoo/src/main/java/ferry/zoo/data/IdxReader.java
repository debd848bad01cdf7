package ferry.zoo.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files (the MNIST / Fashion-MNIST format), gzipped or raw: a big-endian header of magic
 * {@code 0x0000 08 nd} (unsigned bytes, nd dimensions), nd dimension sizes, then the bytes.
 */
public final class IdxReader {
    private IdxReader() {}

    /** An IDX array of unsigned bytes with its dimensions. */
    public record IdxArray(int[] dims, byte[] data) {}

    public static IdxArray read(Path path, int expectedDims) {
        if (!Files.isRegularFile(path)) {
            throw new DatasetException(path, "file not found: expected an IDX file with " + expectedDims
                    + " dimension(s) (gzipped or raw)");
        }
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(path));
             DataInputStream in = new DataInputStream(maybeGunzip(raw))) {
            int magic;
            try {
                magic = in.readInt();
            } catch (EOFException e) {
                throw new DatasetException(path, "empty or truncated file: expected an IDX header", e);
            }
            int type = (magic >>> 8) & 0xff;
            int nd = magic & 0xff;
            if ((magic >>> 16) != 0 || type != 0x08) {
                throw new DatasetException(path, String.format(
                        "not an IDX unsigned-byte file: magic 0x%08x, expected 0x000008%02x", magic, expectedDims));
            }
            if (nd != expectedDims) {
                throw new DatasetException(path, "IDX file has " + nd + " dimensions, expected " + expectedDims);
            }
            int[] dims = new int[nd];
            long total = 1;
            for (int i = 0; i < nd; i++) {
                dims[i] = in.readInt();
                if (dims[i] <= 0) {
                    throw new DatasetException(path, "IDX dimension " + i + " is " + dims[i] + ", expected > 0");
                }
                total *= dims[i];
            }
            if (total > Integer.MAX_VALUE - 16) {
                throw new DatasetException(path, "IDX array of " + total + " bytes is too large");
            }
            byte[] data = new byte[(int) total];
            try {
                in.readFully(data);
            } catch (EOFException e) {
                throw new DatasetException(path, "truncated IDX data: header promises " + total + " bytes", e);
            }
            if (in.read() != -1) {
                throw new DatasetException(path, "trailing bytes after the " + total + " the IDX header promises");
            }
            return new IdxArray(dims, data);
        } catch (NoSuchFileException e) {
            throw new DatasetException(path, "file not found: expected an IDX file", e);
        } catch (ZipException e) {
            throw new DatasetException(path, "corrupt gzip stream: " + e.getMessage(), e);
        } catch (EOFException e) {
            throw new DatasetException(path, "truncated IDX header or gzip stream", e);
        } catch (IOException e) {
            throw new DatasetException(path, "cannot read: " + e.getMessage(), e);
        }
    }

    private static InputStream maybeGunzip(InputStream in) throws IOException {
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        return (b0 == 0x1f && b1 == 0x8b) ? new GZIPInputStream(in, 1 << 16) : in;
    }
}
