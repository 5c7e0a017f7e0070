namespace AgentWorker.Jobs.Migrations;

/// <summary>An applied migration file was changed afterwards. Applied files are never edited: add a new file.</summary>
public sealed class MigrationChecksumException(string name, string applied, string current)
    : Exception($"Migration {name} was changed after it was applied (applied checksum {applied}, file now {current}). "
        + "Applied migrations are never edited: restore the file and put the change in a new migration file.")
{
    public string MigrationName { get; } = name;
}
