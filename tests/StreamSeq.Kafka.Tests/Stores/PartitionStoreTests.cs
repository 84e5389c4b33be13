using System.Text;
using StreamSeq.Kafka.Stores;

namespace StreamSeq.Kafka.Tests.Stores;

/// <summary>The disk store of one partition: staged writes, the atomic batch with its checkpoint, clearing, reopening.</summary>
public sealed class PartitionStoreTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("streamseq-store-").FullName;

    [Fact]
    public void Apply_StagedStatesWithACheckpoint_ReadBackTogetherAfterReopening()
    {
        using (var store = PartitionStore.Open(directory))
        {
            store.Stage("s1", "a"u8);
            store.Stage("sensor-é", "b"u8);
            Assert.False(store.TryRead("s1", out _));
            store.Apply(new StoreCheckpoint(42, 7, "readings"));
        }

        using var reopened = PartitionStore.Open(directory);
        Assert.Equal(new StoreCheckpoint(42, 7, "readings"), reopened.ReadCheckpoint());
        Assert.Equal("a", Read(reopened, "s1"));
        Assert.Equal("b", Read(reopened, "sensor-é"));
        Assert.False(reopened.TryRead("s2", out _));
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("garbage")]
    [InlineData("manifest")]
    public void Open_FilesDamagedWhileStopped_TheStoreStartsEmptyWithoutACheckpointAndSaysWhy(string damage)
    {
        using (var store = PartitionStore.Open(directory))
        {
            for (var i = 0; i < 1000; i++)
            {
                store.Stage($"s{i}", "a"u8);
            }

            store.Apply(new StoreCheckpoint(42, 7, "readings"));
        }

        var random = new Random(3);
        foreach (var file in Directory.GetFiles(directory))
        {
            var name = Path.GetFileName(file);
            if (damage == "truncated")
            {
                File.WriteAllBytes(file, []);
            }
            else if (damage == "garbage")
            {
                var bytes = new byte[Math.Max(16, new FileInfo(file).Length)];
                random.NextBytes(bytes);
                File.WriteAllBytes(file, bytes);
            }
            else if (name.StartsWith("MANIFEST", StringComparison.Ordinal))
            {
                using var stream = File.OpenWrite(file);
                stream.SetLength(stream.Length / 2);
            }
        }

        using var reopened = PartitionStore.Open(directory);
        Assert.NotNull(reopened.Damaged);
        Assert.Null(reopened.ReadCheckpoint());
        Assert.False(reopened.TryRead("s1", out _));
        reopened.Stage("s1", "b"u8);
        reopened.Apply(null);
        Assert.Equal("b", Read(reopened, "s1"));
    }

    [Fact]
    public void TryRead_DataBlockDamagedWhileStopped_ThrowsAndTheNextOpenStartsEmpty()
    {
        // RocksDB checks a data block only when it reads it: enough states for table files, then a block overwritten.
        var value = new byte[1000];
        new Random(1).NextBytes(value);
        using (var store = PartitionStore.Open(directory))
        {
            for (var i = 0; i < 40_000; i++)
            {
                store.Stage($"s{i}", value);
                if (i % 1000 == 999)
                {
                    store.Apply(null);
                }
            }

            store.Apply(new StoreCheckpoint(42, 7, "readings"));
        }

        var tables = Directory.GetFiles(directory, "*.sst");
        Assert.NotEmpty(tables);
        foreach (var table in tables)
        {
            using var file = File.Open(table, FileMode.Open);
            file.Position = file.Length / 3;
            file.Write(new byte[4096]);
        }

        using (var damaged = PartitionStore.Open(directory))
        {
            Assert.Null(damaged.Damaged);
            var errors = 0;
            for (var i = 0; i < 40_000; i++)
            {
                try
                {
                    damaged.TryRead($"s{i}", out _);
                }
                catch (InvalidDataException e)
                {
                    Assert.Contains(directory, e.Message, StringComparison.Ordinal);
                    errors++;
                }
            }

            Assert.NotEqual(0, errors);
        }

        using var reopened = PartitionStore.Open(directory);
        Assert.Contains("Corruption", reopened.Damaged, StringComparison.Ordinal);
        Assert.Null(reopened.ReadCheckpoint());
        Assert.False(reopened.TryRead("s1", out _));
    }

    [Fact]
    public void ReadCheckpoint_ItsDataBlockDamagedWhileStopped_ThrowsNamingTheStoreAndTheNextOpenStartsEmpty()
    {
        // The checkpoint's key sorts first: it is in a table file's first data block. RocksDB's error reading it was
        // thrown as it came, and nothing marked the store, so the worker stopped at every start on this volume, at the
        // same block, instead of once (TryRead's rule).
        using (var store = PartitionStore.Open(directory))
        {
            for (var i = 0; i < 100; i++)
            {
                store.Stage($"s{i}", "a"u8);
            }

            store.Apply(new StoreCheckpoint(42, 7, "readings"));
        }

        using (var db = RocksDbSharp.RocksDb.Open(new RocksDbSharp.DbOptions(), directory))
        {
            db.Flush(new RocksDbSharp.FlushOptions().SetWaitForFlush(true));
        }

        var tables = Directory.GetFiles(directory, "*.sst");
        Assert.NotEmpty(tables);
        foreach (var table in tables)
        {
            using var file = File.Open(table, FileMode.Open);
            file.Position = 8;
            file.Write(new byte[32]);
        }

        using (var damaged = PartitionStore.Open(directory))
        {
            Assert.Null(damaged.Damaged);
            var e = Assert.Throws<InvalidDataException>(() => damaged.ReadCheckpoint());
            Assert.Contains(directory, e.Message, StringComparison.Ordinal);
            Assert.Contains("Corruption", e.Message, StringComparison.Ordinal);
        }

        using var reopened = PartitionStore.Open(directory);
        Assert.Contains("Corruption", reopened.Damaged, StringComparison.Ordinal);
        Assert.Null(reopened.ReadCheckpoint());
        Assert.False(reopened.TryRead("s1", out _));
    }

    [Fact]
    public void DiscardStaged_AfterAnAbort_TheStoreKeepsOnlyWhatWasApplied()
    {
        using var store = PartitionStore.Open(directory);
        store.Stage("s1", "committed"u8);
        store.Apply(new StoreCheckpoint(10, 5, "readings"));
        store.Stage("s1", "aborted"u8);
        store.StageDelete("s1");
        store.Stage("s2", "aborted"u8);
        store.DiscardStaged();
        store.Apply(null);

        Assert.Equal("committed", Read(store, "s1"));
        Assert.False(store.TryRead("s2", out _));
        Assert.Equal(new StoreCheckpoint(10, 5, "readings"), store.ReadCheckpoint());
    }

    [Fact]
    public void Apply_WithoutACheckpoint_KeepsTheOlderCheckpointAndTheNewerStates()
    {
        // The store may be ahead of its checkpoint, never behind it.
        using var store = PartitionStore.Open(directory);
        store.Stage("s1", "v1"u8);
        store.Apply(new StoreCheckpoint(10, 5, "readings"));
        store.Stage("s1", "v2"u8);
        store.StageDelete("gone");
        store.Apply(null);

        Assert.Equal("v2", Read(store, "s1"));
        Assert.Equal(new StoreCheckpoint(10, 5, "readings"), store.ReadCheckpoint());
    }

    [Fact]
    public void StageClear_ThenNewStates_RemovesEveryOlderStateAndTheCheckpointInTheSameBatch()
    {
        using var store = PartitionStore.Open(directory);
        store.Stage("s1", "old"u8);
        store.Stage(new string('x', 1024), "long id"u8);
        store.Apply(new StoreCheckpoint(10, 5, "readings"));
        store.StageClear();
        store.Stage("s2", "new"u8);
        store.Apply(null);

        Assert.False(store.TryRead("s1", out _));
        Assert.False(store.TryRead(new string('x', 1024), out _));
        Assert.Equal("new", Read(store, "s2"));
        Assert.Null(store.ReadCheckpoint());
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0 })]
    public void Read_CheckpointOfAnotherVersionOrNegative_IsNone(byte[] bytes) => Assert.Null(StoreCheckpoint.Read(bytes));

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static string Read(PartitionStore store, string id) => store.TryRead(id, out var data) ? Encoding.UTF8.GetString(data) : "(none)";
}
