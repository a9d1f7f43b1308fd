package webhook

import "github.com/prometheus/client_golang/prometheus"

// counters are the deliveries' metrics, by stream.
type counters struct {
	delivered, failed, dropped *prometheus.CounterVec
	pending                    *prometheus.GaugeVec
}

func newCounters() counters {
	return counters{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hlsmark_webhook_delivered_total", Help: "Webhook deliveries acknowledged (2xx) by their URL.",
		}, []string{"stream"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hlsmark_webhook_failed_total", Help: "Webhook delivery attempts that failed (no answer, or not 2xx); each is retried.",
		}, []string{"stream"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hlsmark_webhook_dropped_total", Help: "Webhook deliveries given up after retrying for the longest age (24 h).",
		}, []string{"stream"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hlsmark_webhook_pending", Help: "Webhook deliveries in the outbox, not yet acknowledged.",
		}, []string{"stream"}),
	}
}

func (c counters) register(r prometheus.Registerer) error {
	for _, m := range []prometheus.Collector{c.delivered, c.failed, c.dropped, c.pending} {
		if err := r.Register(m); err != nil {
			return err
		}
	}
	return nil
}
