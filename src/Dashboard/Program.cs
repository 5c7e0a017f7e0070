using AgentWorker.Dashboard;

if (args is ["hash-password", ..])
{
    // Reads the password from standard input (so it stays out of the shell's history) and prints its hash for
    // Dashboard__Users__<name>__PasswordHash.
    var password = Console.In.ReadLine();
    if (string.IsNullOrEmpty(password))
    {
        await Console.Error.WriteLineAsync("Usage: echo -n 'the password' | Dashboard hash-password   (reads one line from standard input)");
        return 64;
    }
    await Console.Out.WriteLineAsync(DashboardSignIn.Hash(password));
    return 0;
}

await DashboardApp.Create(args).RunAsync();
return 0;
