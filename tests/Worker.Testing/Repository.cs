namespace AgentWorker.Testing;

/// <summary>The repository the tests and the bench run from.</summary>
public static class Repository
{
    /// <summary>The repository's root: the nearest folder above the build output that holds <c>Worker.sln</c>.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (System.IO.File.Exists(Path.Combine(dir.FullName, "Worker.sln")))
                {
                    return dir.FullName;
                }
            }
            throw new InvalidOperationException("Worker.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>A file of the repository, which must exist.</summary>
    public static string File(string relative)
    {
        var path = Path.Combine(Root, relative);
        return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"{relative} not found in {Root}", path);
    }
}
