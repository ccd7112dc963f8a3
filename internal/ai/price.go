package ai

// Price is what a model charges, in US dollars per million tokens.
type Price struct {
	InputText   float64
	InputImage  float64
	OutputText  float64
	OutputImage float64
}

// prices are the published list prices (USD per 1M tokens, standard tier,
// no batch or cache discounts) as of 2026. Sources:
//
//   - gpt-image-1: OpenAI pricing page (text in $5, image in $10, image out
//     $40); a high-quality 1024x1024 image is 4160 output tokens ≈ $0.17.
//   - gpt-image-1-mini, gpt-image-1.5: OpenAI pricing page (unverified here).
//   - gemini-2.5-flash-image: ai.google.dev/gemini-api/docs/pricing (input
//     $0.30, image output $30, i.e. $0.039 for a 1290-token 1024x1024 image).
//   - gemini-3-pro-image-preview, gemini-3.1-flash-image-preview: the same
//     page (unverified here).
//
// A model not in the table gets a cost of 0; add it here when it is used.
var prices = map[string]Price{
	"gpt-image-1":                    {InputText: 5, InputImage: 10, OutputImage: 40},
	"gpt-image-1-mini":               {InputText: 2, InputImage: 2.5, OutputImage: 8},
	"gpt-image-1.5":                  {InputText: 5, InputImage: 8, OutputText: 10, OutputImage: 32},
	"gemini-2.5-flash-image":         {InputText: 0.30, InputImage: 0.30, OutputText: 2.50, OutputImage: 30},
	"gemini-3-pro-image-preview":     {InputText: 2, InputImage: 2, OutputText: 12, OutputImage: 120},
	"gemini-3.1-flash-image-preview": {InputText: 0.50, InputImage: 0.50, OutputText: 3, OutputImage: 60},
}

// DefaultRemoveBGCreditUSD is the default price of one remove.bg credit in
// US dollars. remove.bg sells credits by plan (subscriptions cost roughly
// $0.10–$0.25 a credit, pay-as-you-go more), so this is an estimate; set
// Config.RemoveBGCreditUSD to your plan's price.
const DefaultRemoveBGCreditUSD = 0.20

// EstimateCost returns what usage cost on model in US dollars, or 0 when the
// model is not in the price table.
func EstimateCost(model string, u Usage) float64 {
	p, ok := prices[model]
	if !ok {
		return 0
	}
	return (float64(u.InputTextTokens)*p.InputText +
		float64(u.InputImageTokens)*p.InputImage +
		float64(u.OutputTextTokens)*p.OutputText +
		float64(u.OutputImageTokens)*p.OutputImage) / 1e6
}

// typicalCallUSD is what one call to each provider costs with packshot's default settings,
// rounded up, in US dollars: gpt-image-1 at high quality, 1024×1024 with a high-fidelity
// reference image (≈ $0.17 of output and ≈ $0.04 of input), gemini-2.5-flash-image
// (≈ $0.04), one remove.bg credit.
var typicalCallUSD = map[string]float64{
	ProviderOpenAI:   0.25,
	ProviderGemini:   0.05,
	ProviderRemoveBG: DefaultRemoveBGCreditUSD,
}

// unknownCallUSD is the estimate for a provider not in typicalCallUSD.
const unknownCallUSD = 0.25

// EstimateCallUSD returns what one call to provider is expected to cost, in US dollars,
// before it is made: the spend limits count it for a job that has not finished yet, and
// the provider's real charge once it has.
func EstimateCallUSD(provider string) float64 {
	if c, ok := typicalCallUSD[provider]; ok {
		return c
	}
	return unknownCallUSD
}
