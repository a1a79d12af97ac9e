package scheduler

import "container/heap"

// fireQueue orders active jobs by next nominal fire time: O(log n) to add,
// move or remove a job, O(1) to find the next one due.
type fireQueue []*jobState

func (q fireQueue) Len() int { return len(q) }
func (q fireQueue) Less(i, j int) bool {
	if q[i].writeAt.Equal(q[j].writeAt) {
		return q[i].spec.Name < q[j].spec.Name
	}
	return q[i].writeAt.Before(q[j].writeAt)
}
func (q fireQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].idx, q[j].idx = i, j
}
func (q *fireQueue) Push(x any) {
	js := x.(*jobState)
	js.idx = len(*q)
	*q = append(*q, js)
}
func (q *fireQueue) Pop() any {
	old := *q
	js := old[len(old)-1]
	old[len(old)-1] = nil
	js.idx = -1
	*q = old[:len(old)-1]
	return js
}

// set queues js at its current next time, or moves it there.
func (q *fireQueue) set(js *jobState) {
	if js.idx >= 0 {
		heap.Fix(q, js.idx)
		return
	}
	heap.Push(q, js)
}

// remove takes js out of the queue if it is queued.
func (q *fireQueue) remove(js *jobState) {
	if js.idx >= 0 {
		heap.Remove(q, js.idx)
	}
}

// peek returns the job due first, or nil.
func (q fireQueue) peek() *jobState {
	if len(q) == 0 {
		return nil
	}
	return q[0]
}
