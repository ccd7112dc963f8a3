package pack

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/apperr"
)

// Names of the spend limits, as refusals and metrics name them.
const (
	LimitAIJobsInFlight = "ai_jobs_in_flight"
	LimitAIUserDaily    = "ai_user_daily_budget"
	LimitAIGlobalDaily  = "ai_global_daily_budget"
)

// SpendLimits cap what the AI services cost. They are checked in the transaction that
// enqueues (or retries) paid work, against counts in the database, so they hold however
// many instances share it; the service role is exempt. A paid job counts with an estimate
// (ai.EstimateCallUSD) while it is pending or running and with what the provider charged
// once that is recorded (table ai_spend_days, per UTC day). The zero value limits nothing.
type SpendLimits struct {
	// MaxAIJobsInFlight caps one user's unfinished jobs that call an image generator
	// (PACKSHOT_MAX_AI_JOBS_IN_FLIGHT). 0: no cap.
	MaxAIJobsInFlight int
	// UserDailyUSD caps one user's AI spend per UTC day, in US dollars
	// (PACKSHOT_AI_DAILY_BUDGET_USD). 0: no cap.
	UserDailyUSD float64
	// GlobalDailyUSD caps the whole service's AI spend per UTC day, in US dollars
	// (PACKSHOT_AI_GLOBAL_DAILY_BUDGET_USD). 0: no cap.
	GlobalDailyUSD float64
	// RefusedFunc, when set, is called with the limit's name (LimitAI…) for every refused
	// request, for metrics. It must not block.
	RefusedFunc func(limit string)
}

func (l SpendLimits) any() bool {
	return l.MaxAIJobsInFlight > 0 || l.UserDailyUSD > 0 || l.GlobalDailyUSD > 0
}

// inFlightRetryAfter is the wait a refusal suggests when a running job, not the day,
// has to end first.
const inFlightRetryAfter = 30 * time.Second

// paidKinds are the job kinds that call an image generator with this service's providers.
func (s *Service) paidKinds() []string {
	var kinds []string
	for _, t := range Types {
		if p := s.cfg.Providers.ImageProvider(t); p != "" && p != ProviderLocal {
			kinds = append(kinds, Kind(t))
		}
	}
	return kinds
}

// jobEstimateUSD is what one paid job is expected to cost before it runs.
func (s *Service) jobEstimateUSD() float64 {
	if g := s.cfg.Providers.Generator; g != nil {
		return ai.EstimateCallUSD(g.Name())
	}
	return 0
}

// cutoutEstimateUSD is what cutting the product out of a photo without a cached cut-out
// is expected to cost: one remove.bg call when it is configured.
func (s *Service) cutoutEstimateUSD(src db.SourceImage) float64 {
	if src.CutoutKey == "" {
		return s.removerEstimateUSD()
	}
	return 0
}

// removerEstimateUSD is what one call of the background remover is expected to cost: 0
// without one.
func (s *Service) removerEstimateUSD() float64 {
	if rm := s.cfg.Providers.BackgroundRemover; rm != nil {
		return ai.EstimateCallUSD(rm.Name())
	}
	return 0
}

// checkSpendTx admits or refuses paid work in q's transaction, after the work's jobs were
// written to it: newPaidJobs of them call a generator, and extraUSD is the estimate of
// any other call the work will make (a cut-out). The counts read include the new jobs.
// What is reserved for unfinished work is each paid job's estimate, and a remover call
// for each project that has an unfinished image job and no cut-out yet (this request's
// project among them: its cut-out is reserved once, however many jobs share it).
// Per-user and global advisory locks serialise the check with every other instance's
// until the transaction ends. Errors: ERATELIMITED naming the limit, with when to retry.
func (s *Service) checkSpendTx(ctx context.Context, q db.Querier, c Caller, newPaidJobs int, extraUSD float64) error {
	lim := s.cfg.Spend
	if c.Admin || !lim.any() || (newPaidJobs == 0 && extraUSD == 0) {
		return nil
	}
	kinds, imageKinds := s.paidKinds(), imageKinds()
	est, cutEst := s.jobEstimateUSD(), s.removerEstimateUSD()
	newUSD := float64(newPaidJobs)*est + extraUSD
	if lim.MaxAIJobsInFlight > 0 || lim.UserDailyUSD > 0 {
		if err := q.AISpendLockUser(ctx, c.UserID); err != nil {
			return fmt.Errorf("lock user spend: %w", err)
		}
		u, err := q.AISpendUserUsage(ctx, db.AISpendUserUsageParams{UserID: c.UserID, Kinds: kinds, ImageKinds: imageKinds})
		if err != nil {
			return fmt.Errorf("read user spend: %w", err)
		}
		if lim.MaxAIJobsInFlight > 0 && newPaidJobs > lim.MaxAIJobsInFlight {
			return s.refuseNever(LimitAIJobsInFlight, fmt.Sprintf(
				"this request alone makes %d AI images, more than the %d one account may have at once; ask for fewer",
				newPaidJobs, lim.MaxAIJobsInFlight))
		}
		if lim.MaxAIJobsInFlight > 0 && newPaidJobs > 0 && u.JobsInFlight > int64(lim.MaxAIJobsInFlight) {
			return s.refuse(LimitAIJobsInFlight, inFlightRetryAfter, fmt.Sprintf(
				"%d AI images are already being made for this account, the most one account may have at once; try again when one finishes",
				u.JobsInFlight-int64(newPaidJobs)))
		}
		if err := s.checkBudget(LimitAIUserDaily, "this account's", lim.UserDailyUSD, u.SpentUsd,
			float64(u.JobsInFlight)*est+float64(u.CutoutsPending)*cutEst, newUSD, u.ResetSeconds); err != nil {
			return err
		}
	}
	if lim.GlobalDailyUSD > 0 {
		if err := q.AISpendLockGlobal(ctx); err != nil {
			return fmt.Errorf("lock global spend: %w", err)
		}
		g, err := q.AISpendGlobalUsage(ctx, db.AISpendGlobalUsageParams{Kinds: kinds, ImageKinds: imageKinds})
		if err != nil {
			return fmt.Errorf("read global spend: %w", err)
		}
		if err := s.checkBudget(LimitAIGlobalDaily, "the service's", lim.GlobalDailyUSD, g.SpentUsd,
			float64(g.JobsInFlight)*est+float64(g.CutoutsPending)*cutEst, newUSD, g.ResetSeconds); err != nil {
			return err
		}
	}
	return nil
}

// checkBudget refuses when what was spent today plus reserved, the estimates of the
// unfinished paid work (newUSD of it the request's own), exceeds budget. When the spend
// and the request alone fit, finished jobs will make room, so the refusal suggests a short
// wait; otherwise it waits for the UTC day to end.
func (s *Service) checkBudget(limit, whose string, budget, spent, reserved, newUSD, resetSeconds float64) error {
	if budget <= 0 || spent+reserved <= budget+1e-9 { // 1e-9: float sums of exact cents
		return nil
	}
	if newUSD > budget+1e-9 {
		return s.refuseNever(limit, fmt.Sprintf(
			"this request alone is estimated at $%.2f, more than %s whole AI budget for a day ($%.2f)", newUSD, whose, budget))
	}
	if spent+newUSD <= budget {
		return s.refuse(limit, inFlightRetryAfter, fmt.Sprintf(
			"%s AI budget for today ($%.2f) is taken: $%.2f spent and $%.2f reserved for images still being made; try again when one finishes",
			whose, budget, spent, reserved-newUSD))
	}
	wait := time.Duration(math.Ceil(max(resetSeconds, 1))) * time.Second
	return s.refuse(limit, wait, fmt.Sprintf(
		"%s AI budget for today ($%.2f) is used up ($%.2f spent); it starts again at 00:00 UTC, in %s",
		whose, budget, spent, wait.Round(time.Minute)))
}

// refuseNever counts the refusal of a request that no wait can admit (it is larger than
// the limit by itself) and returns its error: EINVALID, without a retry time.
func (s *Service) refuseNever(limit, msg string) error {
	if f := s.cfg.Spend.RefusedFunc; f != nil {
		f(limit)
	}
	return &apperr.Error{Code: apperr.EINVALID, Message: "limit " + limit + ": " + msg + "; waiting will not help"}
}

// refuse counts a refusal and returns its error.
func (s *Service) refuse(limit string, wait time.Duration, msg string) error {
	if f := s.cfg.Spend.RefusedFunc; f != nil {
		f(limit)
	}
	return &apperr.Error{Code: apperr.ERATELIMITED, RetryAfter: wait, Message: "limit " + limit + ": " + msg}
}

// recordSpendTx adds what a provider charged for the user's work to today's spend.
func recordSpendTx(ctx context.Context, q db.Querier, userID string, costUSD float64) error {
	if costUSD <= 0 {
		return nil
	}
	if err := q.AISpendAdd(ctx, db.AISpendAddParams{UserID: userID, CostUsd: costUSD}); err != nil {
		return fmt.Errorf("record ai spend: %w", err)
	}
	return nil
}
