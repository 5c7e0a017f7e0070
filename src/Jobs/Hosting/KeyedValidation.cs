using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Hosting;

/// <summary>
/// An options class's data annotations (and its <see cref="IValidatableObject"/>), checked on start, each failure
/// naming the configuration key and its environment variable: "Llm:MaxSockets (environment Llm__MaxSockets) must be
/// between 1 and 10000", rather than DataAnnotations' "The field MaxSockets ...".
/// </summary>
internal sealed class KeyedValidation<TOptions>(string section) : IValidateOptions<TOptions> where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var results = new List<ValidationResult>();
        return Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(results.Select(Describe));
    }

    private string Describe(ValidationResult result)
    {
        var message = result.ErrorMessage ?? "is not valid";
        if (result.MemberNames.FirstOrDefault() is not { } member || message.Contains(section + ":", StringComparison.Ordinal))
        {
            return message;
        }
        var key = $"{section}:{member} (environment {section}__{member})";
        var field = $"The field {member} ";
        return message.StartsWith(field, StringComparison.Ordinal) ? key + " " + message[field.Length..] : $"{key}: {message}";
    }
}
