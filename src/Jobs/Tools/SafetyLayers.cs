namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The defences of the SQL tools beyond the login itself. Production always runs with <see cref="All"/>;
/// tests switch layers off one by one to show that each alone stops its class of attack.
/// </summary>
[Flags]
internal enum SafetyLayers
{
    None = 0,

    /// <summary>Session: <c>default_transaction_read_only</c>, <c>statement_timeout</c>, pinned <c>search_path</c>.</summary>
    Session = 1,

    /// <summary>Transaction: opened READ ONLY with a snapshot taken before the model's SQL.</summary>
    Transaction = 2,

    /// <summary>Exactly one statement, sent alone over the extended protocol.</summary>
    SingleStatement = 4,

    All = Session | Transaction | SingleStatement,
}
