package ferry.zoo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.TestData;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetReaderTest {
    @TempDir
    Path tmp;

    @Test
    void readsDebiansFashionMnist() {
        ImageDataset train = TestData.train();
        ImageDataset test = TestData.test();
        assertEquals(60000, train.size());
        assertEquals(10000, test.size());
        assertArrayEquals(new int[] {1, 28, 28}, train.sampleShape());
        int[] counts = new int[10];
        for (int i = 0; i < train.size(); i++) {
            counts[train.label(i)]++;
        }
        for (int c : counts) {
            assertEquals(6000, c, "Fashion-MNIST's training set is balanced");
        }
        Batch b = train.range(0, 4);
        assertArrayEquals(new int[] {4, 1, 28, 28}, b.inputs().shape());
        double mean = 0;
        for (int i = 0; i < train.size(); i += 50) {
            for (float v : train.range(i, i + 1).inputs().data()) {
                mean += v;
            }
        }
        mean /= (train.size() / 50) * 784.0;
        assertTrue(Math.abs(mean) < 0.05, "normalised mean near 0, got " + mean);
    }

    @Test
    void fashionMnistPadsToThreeChannelsOf32x32() {
        ImageDataset small = TestData.train().head(3);
        ImageDataset rgb = small.padAndReplicate(3, 32);
        assertArrayEquals(new int[] {3, 32, 32}, rgb.sampleShape());
        float[] a = small.range(1, 2).inputs().data();
        float[] b = rgb.range(1, 2).inputs().data();
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    assertEquals(a[y * 28 + x], b[c * 1024 + (y + 2) * 32 + x + 2]);
                }
            }
        }
        assertEquals((0 - 0.2860f) / 0.3530f, b[0], 1e-6, "the border is zero pixels");
        assertEquals(small.label(2), rgb.label(2));
        assertThrows(IllegalArgumentException.class, () -> rgb.padAndReplicate(3, 40));
    }

    static byte[] idx(int magic, int[] dims, byte[] data) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bos);
        out.writeInt(magic);
        for (int d : dims) {
            out.writeInt(d);
        }
        out.write(data);
        return bos.toByteArray();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(raw);
        }
        return bos.toByteArray();
    }

    @Test
    void readsRawAndGzippedIdxAlike() throws IOException {
        byte[] pixels = new byte[3 * 2 * 2];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 20);
        }
        byte[] raw = idx(0x00000803, new int[] {3, 2, 2}, pixels);
        Files.write(tmp.resolve("a"), raw);
        Files.write(tmp.resolve("a.gz"), gzip(raw));
        IdxReader.IdxArray r = IdxReader.read(tmp.resolve("a"), 3);
        IdxReader.IdxArray g = IdxReader.read(tmp.resolve("a.gz"), 3);
        assertArrayEquals(new int[] {3, 2, 2}, r.dims());
        assertArrayEquals(pixels, r.data());
        assertArrayEquals(r.data(), g.data());
        // a full train/test directory of raw files loads through Datasets.idx
        Files.write(tmp.resolve("train-images-idx3-ubyte"), raw);
        Files.write(tmp.resolve("train-labels-idx1-ubyte"), idx(0x00000801, new int[] {3}, new byte[] {0, 9, 4}));
        ImageDataset d = Datasets.idx("tiny", tmp, "train");
        assertEquals(3, d.size());
        assertEquals(9, d.label(1));
    }

    @Test
    void missingAndCorruptIdxFilesNameThePathAndTheExpectation() throws IOException {
        Path missing = tmp.resolve("nope-idx3-ubyte");
        DatasetException e = assertThrows(DatasetException.class, () -> IdxReader.read(missing, 3));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("not found"),
                e.getMessage());

        Path badMagic = tmp.resolve("bad-magic");
        Files.write(badMagic, idx(0x00000D03, new int[] {1, 1, 1}, new byte[1]));
        e = assertThrows(DatasetException.class, () -> IdxReader.read(badMagic, 3));
        assertTrue(e.getMessage().contains(badMagic.toString()) && e.getMessage().contains("0x00000803"),
                e.getMessage());

        Path wrongDims = tmp.resolve("labels-as-images");
        Files.write(wrongDims, idx(0x00000801, new int[] {2}, new byte[2]));
        e = assertThrows(DatasetException.class, () -> IdxReader.read(wrongDims, 3));
        assertTrue(e.getMessage().contains("expected 3"), e.getMessage());

        Path truncated = tmp.resolve("truncated");
        byte[] full = idx(0x00000803, new int[] {10, 28, 28}, new byte[7840]);
        Files.write(truncated, Arrays.copyOf(full, 100));
        e = assertThrows(DatasetException.class, () -> IdxReader.read(truncated, 3));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        Path badGzip = tmp.resolve("bad.gz");
        byte[] gz = gzip(full);
        Files.write(badGzip, Arrays.copyOf(gz, gz.length / 2));
        e = assertThrows(DatasetException.class, () -> IdxReader.read(badGzip, 3));
        assertTrue(e.getMessage().contains(badGzip.toString()), e.getMessage());

        Path empty = tmp.resolve("empty");
        Files.write(empty, new byte[0]);
        assertThrows(DatasetException.class, () -> IdxReader.read(empty, 3));

        // images and labels that disagree in count
        Files.write(tmp.resolve("t10k-images-idx3-ubyte"), idx(0x00000803, new int[] {2, 1, 1}, new byte[2]));
        Files.write(tmp.resolve("t10k-labels-idx1-ubyte"), idx(0x00000801, new int[] {3}, new byte[3]));
        e = assertThrows(DatasetException.class, () -> Datasets.idx("x", tmp, "t10k"));
        assertTrue(e.getMessage().contains("3 labels for 2 images"), e.getMessage());
    }

    @Test
    void readsCifar10BinaryBatches() throws IOException {
        byte[] rec = new byte[2 * Cifar10Reader.RECORD];
        rec[0] = 7;
        rec[1] = (byte) 255; // first red pixel of image 0
        rec[Cifar10Reader.RECORD] = 2;
        rec[Cifar10Reader.RECORD + 1 + 1024] = (byte) 128; // first green pixel of image 1
        Path f = tmp.resolve("data_batch_1.bin");
        Files.write(f, rec);
        ImageDataset d = Cifar10Reader.read("c", List.of(f, f));
        assertEquals(4, d.size());
        assertArrayEquals(new int[] {3, 32, 32}, d.sampleShape());
        assertEquals(7, d.label(0));
        assertEquals(2, d.label(3));
        float red = d.range(0, 1).inputs().data()[0];
        assertEquals((1f - 0.4914f) / 0.2470f, red, 1e-5);
        float green = d.range(1, 2).inputs().data()[1024];
        assertEquals((128 / 255f - 0.4822f) / 0.2435f, green, 1e-5);
    }

    @Test
    void corruptCifar10FilesNameThePath() throws IOException {
        Path odd = tmp.resolve("odd.bin");
        Files.write(odd, new byte[Cifar10Reader.RECORD + 5]);
        DatasetException e = assertThrows(DatasetException.class, () -> Cifar10Reader.read("c", List.of(odd)));
        assertTrue(e.getMessage().contains(odd.toString()) && e.getMessage().contains("3073"), e.getMessage());

        Path badLabel = tmp.resolve("label.bin");
        byte[] rec = new byte[Cifar10Reader.RECORD];
        rec[0] = 12;
        Files.write(badLabel, rec);
        e = assertThrows(DatasetException.class, () -> Cifar10Reader.read("c", List.of(badLabel)));
        assertTrue(e.getMessage().contains("label 12"), e.getMessage());

        Path missing = tmp.resolve("test_batch.bin");
        assertThrows(DatasetException.class, () -> Cifar10Reader.read("c", List.of(missing)));
        assertTrue(!Datasets.cifar10Present(tmp));
    }
}
