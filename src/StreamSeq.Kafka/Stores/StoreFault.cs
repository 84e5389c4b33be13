using System.Diagnostics;
using System.Globalization;

namespace StreamSeq.Kafka.Stores;

/// <summary>
/// A fault for crash tests, read from the environment variable <c>STREAMSEQ_TEST_STORE_FAULT</c>: the process kills
/// itself (SIGKILL) at the N-th committed transaction either just before the disk store's write
/// (<c>kill-before-store-write:N</c>) or just after a write that carried no checkpoint
/// (<c>kill-after-store-write:N</c>), the two states a crash can leave a store in; or just after the N-th batch a
/// restore wrote to the store (<c>kill-during-restore:N</c>), with the restore's states partly in the store. Unset, it
/// does nothing.
/// </summary>
internal sealed class StoreFault
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "STREAMSEQ_TEST_STORE_FAULT";

    private readonly bool before;
    private readonly bool restoring;
    private readonly int at;
    private int count;

    private StoreFault(bool before, int at, bool restoring = false)
    {
        this.before = before;
        this.at = at;
        this.restoring = restoring;
    }

    /// <summary>The fault the environment asks for (none when unset or not understood).</summary>
    public static StoreFault FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(value) || value.Split(':') is not [var what, var n] || !int.TryParse(n, CultureInfo.InvariantCulture, out var at) || at < 1)
        {
            return new StoreFault(false, 0);
        }

        return what switch
        {
            "kill-before-store-write" => new StoreFault(true, at),
            "kill-after-store-write" => new StoreFault(false, at),
            "kill-during-restore" => new StoreFault(false, at, restoring: true),
            _ => new StoreFault(false, 0),
        };
    }

    /// <summary>Called after a restore wrote a batch of the changelog's states to the disk store.</summary>
    public void AfterRestoreBatch()
    {
        if (restoring && at > 0 && ++count == at)
        {
            Kill();
        }
    }

    /// <summary>Called after a transaction committed, before its states go to the disk store.</summary>
    public void BeforeStoreWrite()
    {
        if (before && !restoring && at > 0 && ++count == at)
        {
            Kill();
        }
    }

    /// <summary>Called after the states went to the disk store.</summary>
    public void AfterStoreWrite(bool checkpointed)
    {
        if (!before && !restoring && at > 0 && !checkpointed && ++count == at)
        {
            Kill();
        }
    }

    private static void Kill()
    {
        using var self = Process.GetCurrentProcess();
        self.Kill();
    }
}
